using System.Runtime.InteropServices;

namespace LongCtx.Reference;

// The P/Invoke surface of libllama (llama.cpp as shipped in @node-llama-cpp/linux-x64@3.22.1,
// llama.cpp release "v0.5.0"). Every struct mirrors include/llama.h of that release field by
// field; C bools are bytes here so that the structs stay blittable (the default marshaller would
// treat a C# bool as a 4-byte Win32 BOOL). Offsets were checked against a C program compiled
// with the same header (offsetof/sizeof) and are asserted again in LlamaNativeLayoutTests.

/// <summary><c>struct llama_model_params</c>: 80 bytes on x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaModelParams
{
    public IntPtr Devices;                    //  0 ggml_backend_dev_t*, NULL = all
    public IntPtr TensorBuftOverrides;        //  8
    public int NGpuLayers;                    // 16
    public int SplitMode;                     // 20 enum llama_split_mode
    public int LoadMode;                      // 24 enum llama_load_mode (-1 auto = mmap here)
    public int LazyMode;                      // 28 enum llama_lazy_mode
    public int MainGpu;                       // 32
    public IntPtr TensorSplit;                // 40 (4 bytes padding before)
    public IntPtr ProgressCallback;           // 48
    public IntPtr ProgressCallbackUserData;   // 56
    public IntPtr KvOverrides;                // 64
    public byte VocabOnly;                    // 72
    public byte CheckTensors;                 // 73
    public byte UseExtraBufts;                // 74 weight repacking (e.g. Q4_0 -> Q4_0x8)
    public byte NoHost;                       // 75
    public byte NoAlloc;                      // 76
    public byte LoadMtp;                      // 77 (2 bytes padding after)
}

/// <summary><c>struct llama_context_params</c>: 160 bytes on x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaContextParams
{
    public uint NCtx;                 //   0
    public uint NBatch;               //   4
    public uint NUbatch;              //   8
    public uint NSeqMax;              //  12
    public uint NRsSeq;               //  16
    public uint NOutputsMax;          //  20 0 = n_batch
    public uint NOutputsMaxPerSeq;    //  24 0 = n_outputs_max (only checked for backend samplers)
    public int NThreads;              //  28
    public int NThreadsBatch;         //  32
    public int CtxType;               //  36
    public int RopeScalingType;       //  40
    public int PoolingType;           //  44
    public int AttentionType;         //  48
    public int FlashAttnType;         //  52 -1 auto, 0 disabled, 1 enabled
    public float RopeFreqBase;        //  56
    public float RopeFreqScale;       //  60
    public float YarnExtFactor;       //  64
    public float YarnAttnFactor;      //  68
    public float YarnBetaFast;        //  72
    public float YarnBetaSlow;        //  76
    public uint YarnOrigCtx;          //  80
    public float DefragThold;         //  84
    public IntPtr CbEval;             //  88
    public IntPtr CbEvalUserData;     //  96
    public int TypeK;                 // 104 enum ggml_type: 0 F32, 1 F16
    public int TypeV;                 // 108
    public IntPtr AbortCallback;      // 112
    public IntPtr AbortCallbackData;  // 120
    public byte Embeddings;           // 128
    public byte OffloadKqv;           // 129
    public byte NoPerf;               // 130
    public byte OpOffload;            // 131
    public byte SwaFull;              // 132
    public byte KvUnified;            // 133 (2 bytes padding after)
    public IntPtr Samplers;           // 136
    public nuint NSamplers;           // 144
    public IntPtr CtxOther;           // 152
}

/// <summary><c>struct llama_batch</c>: 56 bytes on x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LlamaBatch
{
    public int NTokens;      //  0
    public int* Token;       //  8
    public float* Embd;      // 16
    public int* Pos;         // 24
    public int* NSeqId;      // 32
    public int** SeqId;      // 40
    public sbyte* Logits;    // 48 "output": nonzero = keep this position's logits
}

/// <summary><c>struct llama_chat_message</c>: two UTF-8, NUL-terminated strings.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LlamaChatMessage
{
    public byte* Role;
    public byte* Content;
}

/// <summary>The libllama / libggml entry points the oracle uses.</summary>
internal static unsafe partial class LlamaNative
{
    public const int GgmlTypeF32 = 0;
    public const int GgmlTypeF16 = 1;

    // ggml_log_level
    public const int LogLevelWarn = 3;
    public const int LogLevelError = 4;
    public const int LogLevelCont = 5;

    [LibraryImport(OracleLibraries.Ggml, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void ggml_backend_load_all_from_path(string dirPath);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_backend_init();

    /// <summary>Also installs the callback as ggml's logger (llama-impl.cpp).</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_log_set(delegate* unmanaged[Cdecl]<int, byte*, void*, void> callback, void* userData);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial LlamaModelParams llama_model_default_params();

    [LibraryImport(OracleLibraries.Llama, StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr llama_model_load_from_file(string pathModel, LlamaModelParams parameters);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_model_free(IntPtr model);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial LlamaContextParams llama_context_default_params();

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_init_from_model(IntPtr model, LlamaContextParams parameters);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_free(IntPtr context);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_model_get_vocab(IntPtr model);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_n_tokens(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial uint llama_n_ctx(IntPtr context);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial uint llama_n_batch(IntPtr context);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial uint llama_n_ubatch(IntPtr context);

    /// <summary>A view over caller memory; logits only for the last token. Nothing to free.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial LlamaBatch llama_batch_get_one(int* tokens, int nTokens);

    /// <summary>Heap batch for up to <paramref name="nTokens"/> tokens; free with <see cref="llama_batch_free"/>.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial LlamaBatch llama_batch_init(int nTokens, int embd, int nSeqMax);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_batch_free(LlamaBatch batch);

    /// <summary>0 ok, 1 no KV slot, 2 aborted, -1 invalid batch, &lt; -1 error.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_decode(IntPtr context, LlamaBatch batch);

    /// <summary>Logits of the i-th batch position that requested output (negative i counts from the end); NULL when invalid.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial float* llama_get_logits_ith(IntPtr context, int i);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_get_memory(IntPtr context);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_memory_clear(IntPtr memory, [MarshalAs(UnmanagedType.U1)] bool data);

    /// <summary>Returns the token count, or minus the required count when <paramref name="nTokensMax"/> is too small.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_tokenize(IntPtr vocab, byte* text, int textLen, int* tokens, int nTokensMax,
        [MarshalAs(UnmanagedType.U1)] bool addSpecial, [MarshalAs(UnmanagedType.U1)] bool parseSpecial);

    /// <summary>Returns the byte count (no NUL written), or minus the required length.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_token_to_piece(IntPtr vocab, int token, byte* buf, int length, int lstrip,
        [MarshalAs(UnmanagedType.U1)] bool special);

    /// <summary>Returns the byte count, or minus the required length.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_detokenize(IntPtr vocab, int* tokens, int nTokens, byte* text, int textLenMax,
        [MarshalAs(UnmanagedType.U1)] bool removeSpecial, [MarshalAs(UnmanagedType.U1)] bool unparseSpecial);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_bos(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_eos(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_eot(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_pad(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool llama_vocab_get_add_bos(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool llama_vocab_get_add_eos(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_type(IntPtr vocab);

    [LibraryImport(OracleLibraries.Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool llama_vocab_is_eog(IntPtr vocab, int token);

    [LibraryImport(OracleLibraries.Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool llama_vocab_is_control(IntPtr vocab, int token);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_vocab_get_attr(IntPtr vocab, int token);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial byte* llama_vocab_get_text(IntPtr vocab, int token);

    /// <summary>unicode.cpp's <c>unicode_cpt_flags unicode_cpt_flags_from_cpt(uint32_t)</c> (C++ linkage; the 2-byte struct comes back in a register).</summary>
    [LibraryImport(OracleLibraries.Llama, EntryPoint = "_Z26unicode_cpt_flags_from_cptj")]
    public static partial ushort unicode_cpt_flags_from_cpt(uint codepoint);

    /// <summary>Returns the full formatted length (may exceed <paramref name="length"/>), or a negative value for an unsupported template.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_chat_apply_template(byte* tmpl, LlamaChatMessage* chat, nuint nMsg,
        [MarshalAs(UnmanagedType.U1)] bool addAss, byte* buf, int length);

    /// <summary>The model's <c>tokenizer.chat_template</c> (name NULL) or NULL when absent.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial byte* llama_model_chat_template(IntPtr model, byte* name);

    /// <summary>Length of the value (excluding NUL; may exceed the buffer), or -1 when the key is missing.</summary>
    [LibraryImport(OracleLibraries.Llama, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int llama_model_meta_val_str(IntPtr model, string key, byte* buf, nuint bufSize);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_model_desc(IntPtr model, byte* buf, nuint bufSize);
}
