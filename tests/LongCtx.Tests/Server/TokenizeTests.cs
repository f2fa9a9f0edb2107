using System.Text.Json;
using LongCtx.Tests.Reference;

namespace LongCtx.Tests.Server;

/// <summary>POST /tokenize and /detokenize in llama.cpp server's shapes.</summary>
[Collection("Server")]
public sealed class TokenizeTests(ServerFixture server)
{
    private static int Merged(string token) => 256 + Array.FindIndex(TinyLlamaFile.Merges, m => m.Replace(" ", "", StringComparison.Ordinal) == token);

    [Fact]
    public async Task TokenizeGivesIdsAndPieces()
    {
        (int status, JsonElement body) = await server.PostAsync("/tokenize", """{"content":"hello world<|im_end|>"}""");
        Assert.Equal(200, status);
        int imEnd = TinyLlamaFile.EndOfText + 2;
        Assert.Equal([Merged("hello"), Merged("Ġworld"), imEnd], body.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));

        (_, body) = await server.PostAsync("/tokenize", """{"content":"hello<|im_end|>","with_pieces":true,"parse_special":false}""");
        JsonElement[] pieces = body.GetProperty("tokens").EnumerateArray().ToArray();
        Assert.Equal(Merged("hello"), pieces[0].GetProperty("id").GetInt32());
        Assert.Equal("hello", pieces[0].GetProperty("piece").GetString());
        Assert.Equal("<", pieces[1].GetProperty("piece").GetString());   // not parsed as the special token
    }

    [Fact]
    public async Task DetokenizeRoundTrips()
    {
        const string text = "hello world, héllo 🙂";
        (_, JsonElement tokens) = await server.PostAsync("/tokenize", JsonSerializer.Serialize(new { content = text }));
        (int status, JsonElement back) = await server.PostAsync("/detokenize", JsonSerializer.Serialize(new { tokens = tokens.GetProperty("tokens") }));
        Assert.Equal(200, status);
        Assert.Equal(text, back.GetProperty("content").GetString());
    }

    [Fact]
    public async Task EmojiPiecesAreBytesWhereNotWholeCharacters()
    {
        (_, JsonElement body) = await server.PostAsync("/tokenize", """{"content":"🙂","with_pieces":true}""");
        JsonElement first = body.GetProperty("tokens")[0];
        Assert.Equal(JsonValueKind.Array, first.GetProperty("piece").ValueKind);   // one byte of the 4-byte emoji
        Assert.Equal(0xF0, first.GetProperty("piece")[0].GetInt32());
    }
}
