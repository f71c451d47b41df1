using Federated.Core.Data;

namespace Federated.Core.Tests.Data;

public sealed class JsonlFormatTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    private (IReadOnlyList<TextExample> Examples, JsonlFormat Format) Load(params string[] lines)
    {
        File.WriteAllLines(_path, lines);
        return JsonlExamples.LoadWithFormat(_path);
    }

    private string Error(params string[] lines)
    {
        File.WriteAllLines(_path, lines);
        return Assert.Throws<DataFormatException>(() => JsonlExamples.Load(_path)).Message;
    }

    [Fact]
    public void Alpaca_records_join_instruction_and_input()
    {
        var (examples, format) = Load(
            """{"instruction":"Add.","input":"2 3","output":"5"}""",
            """{"instruction":"Say hi.","input":"","output":"hi","category":"greet"}""");
        Assert.Equal(JsonlFormat.Alpaca, format);
        Assert.Equal([new TextExample("Add.\n\n2 3", "5"), new TextExample("Say hi.", "hi", "greet")], examples);
    }

    [Fact]
    public void Dolly_records_keep_their_category()
    {
        var (examples, format) = Load("""{"instruction":"Who?","context":"Ada wrote it.","response":"Ada","category":"closed_qa"}""");
        Assert.Equal(JsonlFormat.Dolly, format);
        Assert.Equal(new TextExample("Who?\n\nAda wrote it.", "Ada", "closed_qa"), Assert.Single(examples));
    }

    [Fact]
    public void Chat_records_train_on_the_final_assistant_turn()
    {
        var (examples, format) = Load("""{"messages":[{"role":"system","content":"S"},{"role":"user","content":"u1"},{"role":"assistant","content":"a1"},{"role":"user","content":"u2"},{"role":"assistant","content":"a2"}]}""");
        Assert.Equal(JsonlFormat.Chat, format);
        var example = Assert.Single(examples);
        Assert.Equal(("u2", "a2"), (example.Prompt, example.Completion));
        Assert.Equal([new ChatMessage("system", "S"), new ChatMessage("user", "u1"), new ChatMessage("assistant", "a1")], example.Context!);
    }

    [Fact]
    public void Text_records_are_plain_text()
    {
        var (examples, format) = Load("""{"text":"Once upon a time."}""");
        Assert.Equal(JsonlFormat.Text, format);
        Assert.True(Assert.Single(examples).IsPlainText);
        Assert.Equal("Once upon a time.", examples[0].Completion);
    }

    [Fact]
    public void A_record_in_another_format_is_named_with_file_line_and_field()
    {
        Assert.Equal(
            $"{_path} line 3: field \"response\" makes this a Dolly record, but the file is Alpaca (from line 1)",
            Error("""{"instruction":"a","output":"b"}""", "", """{"instruction":"a","response":"b"}"""));
        Assert.Contains("line 2: field \"text\" makes this a Text record, but the file is PromptCompletion", Error("""{"prompt":"a","completion":"b"}""", """{"text":"a"}"""));
        Assert.Contains("line 1: cannot tell the record format from its fields (question, answer)", Error("""{"question":"a","answer":"b"}"""));
        Assert.Contains("line 2: missing field \"output\"", Error("""{"instruction":"a","output":"b"}""", """{"instruction":"a"}"""));
    }

    [Fact]
    public void Malformed_chat_records_are_named()
    {
        Assert.Contains("line 1: field \"messages[1].role\" is \"bot\"", Error("""{"messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}"""));
        Assert.Contains("line 1: field \"messages\" must end with an assistant message", Error("""{"messages":[{"role":"user","content":"a"}]}"""));
        Assert.Contains("line 1: missing field \"messages[0].content\"", Error("""{"messages":[{"role":"user"},{"role":"assistant","content":"b"}]}"""));
        Assert.Contains("line 1: field \"messages[1].role\" is system, which may only be the first", Error("""{"messages":[{"role":"user","content":"a"},{"role":"system","content":"b"},{"role":"assistant","content":"c"}]}"""));
        Assert.Contains("line 1: field \"messages[0].role\" is assistant, but the final assistant message must answer a user message", Error("""{"messages":[{"role":"assistant","content":"a"},{"role":"assistant","content":"b"}]}"""));
        Assert.Contains("line 1: field \"messages\" must be an array", Error("""{"messages":"hi"}"""));
        Assert.Contains("line 1: expected a JSON object", Error("[1, 2]"));
    }

    [Fact]
    public void Chat_and_text_examples_written_as_JSONL_read_back_the_same()
    {
        var chat = new TextExample("u", "a", "c") { Context = [new ChatMessage("system", "s")] };
        JsonlExamples.Write(_path, [chat]);
        var back = Assert.Single(JsonlExamples.Load(_path));
        Assert.Equal((chat.Prompt, chat.Completion, chat.Category), (back.Prompt, back.Completion, back.Category));
        Assert.Equal(chat.Context, back.Context!);

        JsonlExamples.Write(_path, [TextExample.PlainText("t1"), TextExample.PlainText("t2", "k")]);
        Assert.Equal([TextExample.PlainText("t1"), TextExample.PlainText("t2", "k")], JsonlExamples.Load(_path));
        Assert.Throws<ArgumentException>(() => JsonlExamples.Write(_path, [TextExample.PlainText("t"), new TextExample("p", "c")]));
    }
}
