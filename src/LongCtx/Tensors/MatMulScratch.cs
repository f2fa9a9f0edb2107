namespace LongCtx.Tensors;

/// <summary>
/// Reusable buffer for <see cref="MatMul"/>'s quantized activations. It grows on demand and is
/// pinned, so repeated calls of the same or smaller size allocate nothing. One per session/thread:
/// it must not be shared by concurrent <see cref="MatMul.Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, int, Span{float}, WorkerPool, MatMulScratch)"/> calls.
/// </summary>
public sealed class MatMulScratch
{
    private byte[] _buffer = [];

    /// <summary>Current capacity in bytes.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>A pinned buffer of at least <paramref name="bytes"/> bytes (with 64 bytes of slack for vector over-reads).</summary>
    internal unsafe byte* Get(long bytes, out byte[] keepAlive)
    {
        if (bytes + 64 > _buffer.Length)
        {
            _buffer = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(bytes + 64, _buffer.Length * 3L / 2)), pinned: true);
        }
        keepAlive = _buffer;
        fixed (byte* p = _buffer) return p; // pinned-heap array: the address is stable
    }
}
