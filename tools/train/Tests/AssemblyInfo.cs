// Tests switch Cpu.Simd off to run the scalar twins: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
