namespace LongCtx.Generation.Sampling;

/// <summary>
/// One step of a sampling chain (llama.cpp's <c>llama_sampler_i</c>): it narrows, reorders or
/// re-weights the candidates in place, and the last step of a chain selects one. Implementations
/// allocate nothing in <see cref="Apply"/> and <see cref="Accept"/>.
/// </summary>
public interface ISampler
{
    /// <summary>Transforms the candidates for the next token (or sets <see cref="Candidates.Selected"/>).</summary>
    void Apply(Candidates candidates);

    /// <summary>Records a token that became part of the text (a prompt token or a generated one).</summary>
    void Accept(int token);

    /// <summary>Forgets the accepted tokens and restarts any random stream from its seed.</summary>
    void Reset();
}
