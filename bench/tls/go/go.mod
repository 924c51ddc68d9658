module tlsbench

go 1.19
