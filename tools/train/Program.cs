namespace LongCtx.Train;

/// <summary>Entry point of <c>longctx-train</c>.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: longctx-train bench-gemm");
            return 2;
        }
        switch (args[0])
        {
            case "bench-gemm":
                Bench.GemmSpeed(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2);
                return 0;
            default:
                Console.Error.WriteLine($"unknown command '{args[0]}'");
                return 2;
        }
    }
}
