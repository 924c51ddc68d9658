module corio-bench

go 1.19
