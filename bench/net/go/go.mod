module corio/bench/net

go 1.19
