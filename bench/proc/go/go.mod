module corio/bench/proc

go 1.19
