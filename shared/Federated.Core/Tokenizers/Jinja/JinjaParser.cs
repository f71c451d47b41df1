using System.Globalization;
using System.Text;

namespace Federated.Core.Tokenizers.Jinja;

internal enum JinjaTokenKind
{
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Text);

/// <summary>Parses the segments of a template into statement nodes (expressions: JinjaExpressionParser.cs).</summary>
internal sealed partial class JinjaParser(List<JinjaSegment> segments)
{
    private static readonly string[] Operators = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "=", "!"];

    private int _segment;
    private List<JinjaToken> _tokens = [];
    private int _at;
    private JinjaSegment _current = new(JinjaSegmentKind.Text, "", 0);

    public List<JinjaNode> ParseTemplate()
    {
        var body = ParseBody(out var stop);
        if (stop is not null)
            throw Error($"\"{{% {stop} %}}\" has no block to close");
        return body;
    }

    /// <summary>Nodes up to a statement whose keyword is in <paramref name="stops"/> (returned, its tokens ready to read) or the end.</summary>
    private List<JinjaNode> ParseBody(out string? stop, params string[] stops)
    {
        var nodes = new List<JinjaNode>();
        while (_segment < segments.Count)
        {
            var segment = _current = segments[_segment++];
            switch (segment.Kind)
            {
                case JinjaSegmentKind.Text:
                    nodes.Add(new TextNode(segment.Text));
                    break;
                case JinjaSegmentKind.Output:
                    Begin(segment);
                    nodes.Add(new OutputNode(ParseExpression()));
                    ExpectEnd();
                    break;
                default:
                    Begin(segment);
                    var keyword = ExpectName();
                    if (stops.Contains(keyword))
                    {
                        stop = keyword;
                        return nodes;
                    }
                    nodes.Add(ParseStatement(keyword));
                    break;
            }
        }
        if (stops.Length > 0)
            throw Error($"the template ends before \"{{% {stops[^1]} %}}\"");
        stop = null;
        return nodes;
    }

    private JinjaNode ParseStatement(string keyword)
    {
        switch (keyword)
        {
            case "if":
                return ParseIf();
            case "for":
                return ParseFor();
            case "set":
                return ParseSet();
            case "macro":
                return ParseMacro();
            case "break":
                ExpectEnd();
                return new LoopControlNode(Break: true);
            case "continue":
                ExpectEnd();
                return new LoopControlNode(Break: false);
            case "endif" or "endfor" or "endset" or "endmacro" or "elif" or "else":
                throw Error($"\"{{% {keyword} %}}\" has no block to close");
            default:
                throw Error($"the statement \"{{% {keyword} %}}\" is not supported (if, for, set, macro, break, continue are)");
        }
    }

    private IfNode ParseIf()
    {
        var branches = new List<(JinjaExpression, List<JinjaNode>)>();
        var condition = ParseExpression();
        ExpectEnd();
        while (true)
        {
            var body = ParseBody(out var stop, "elif", "else", "endif");
            branches.Add((condition, body));
            if (stop == "elif")
            {
                condition = ParseExpression();
                ExpectEnd();
                continue;
            }
            List<JinjaNode>? otherwise = null;
            if (stop == "else")
            {
                ExpectEnd();
                otherwise = ParseBody(out _, "endif");
            }
            ExpectEnd();
            return new IfNode(branches, otherwise);
        }
    }

    private ForNode ParseFor()
    {
        var targets = new List<string> { ExpectName() };
        while (Accept(","))
            targets.Add(ExpectName());
        if (ExpectName() != "in")
            throw Error("expected \"in\" in the for statement");
        var iterable = ParseTernaryless();
        JinjaExpression? filter = null;
        if (AcceptName("if"))
            filter = ParseExpression();
        if (AcceptName("recursive"))
            throw Error("recursive for loops are not supported");
        ExpectEnd();
        var body = ParseBody(out var stop, "else", "endfor");
        List<JinjaNode>? otherwise = null;
        if (stop == "else")
        {
            ExpectEnd();
            otherwise = ParseBody(out _, "endfor");
        }
        ExpectEnd();
        return new ForNode(targets, iterable, filter, body, otherwise);
    }

    private JinjaNode ParseSet()
    {
        var name = ExpectName();
        string? attribute = null;
        if (Accept("."))
            attribute = ExpectName();
        var names = new List<string> { name };
        while (attribute is null && Accept(","))
            names.Add(ExpectName());
        if (Accept("="))
        {
            var value = ParseExpression();
            ExpectEnd();
            return new SetNode(names, attribute, value, null);
        }
        if (attribute is not null || names.Count > 1)
            throw Error("a block set takes one plain name");
        ExpectEnd();
        var body = ParseBody(out _, "endset");
        ExpectEnd();
        return new SetNode(names, null, null, body);
    }

    private MacroNode ParseMacro()
    {
        var name = ExpectName();
        Expect("(");
        var parameters = new List<(string, JinjaExpression?)>();
        while (!Accept(")"))
        {
            var parameter = ExpectName();
            parameters.Add((parameter, Accept("=") ? ParseExpression() : null));
            if (!Accept(","))
            {
                Expect(")");
                break;
            }
        }
        ExpectEnd();
        var body = ParseBody(out _, "endmacro");
        ExpectEnd();
        return new MacroNode(name, parameters, body);
    }

    private JinjaToken Peek => PeekAt(0);

    private JinjaToken PeekAt(int offset) => _at + offset < _tokens.Count ? _tokens[_at + offset] : new JinjaToken(JinjaTokenKind.End, "");

    private JinjaToken Next()
    {
        var token = Peek;
        if (_at < _tokens.Count)
            _at++;
        return token;
    }

    private bool Accept(string op)
    {
        if (Peek.Kind != JinjaTokenKind.Operator || Peek.Text != op)
            return false;
        _at++;
        return true;
    }

    private bool AcceptName(string name)
    {
        if (Peek.Kind != JinjaTokenKind.Name || Peek.Text != name)
            return false;
        _at++;
        return true;
    }

    private void Expect(string op)
    {
        if (!Accept(op))
            throw Error($"expected \"{op}\", found \"{Peek.Text}\"");
    }

    private string ExpectName()
    {
        var token = Next();
        return token.Kind == JinjaTokenKind.Name ? token.Text : throw Error($"expected a name, found \"{token.Text}\"");
    }

    private void ExpectEnd()
    {
        if (Peek.Kind != JinjaTokenKind.End)
            throw Error($"unexpected \"{Peek.Text}\"");
    }

    private JinjaException Error(string problem) => new($"chat template, in \"{Snippet()}\" (offset {_current.Offset}): {problem}");

    private string Snippet()
    {
        var text = _current.Kind switch
        {
            JinjaSegmentKind.Output => "{{" + _current.Text + "}}",
            JinjaSegmentKind.Statement => "{%" + _current.Text + "%}",
            _ => _current.Text,
        };
        text = text.Replace("\n", "\\n");
        return text.Length > 80 ? text[..80] + "…" : text;
    }

    private void Begin(JinjaSegment segment)
    {
        _tokens = Tokenize(segment.Text);
        _at = 0;
    }

    private List<JinjaToken> Tokenize(string text)
    {
        var tokens = new List<JinjaToken>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                    i++;
                tokens.Add(new JinjaToken(JinjaTokenKind.Name, text[start..i]));
            }
            else if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '_'))
                    i++;
                bool isFloat = i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]);
                if (isFloat)
                {
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                        i++;
                }
                tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, text[start..i].Replace("_", "")));
            }
            else if (c is '\'' or '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                        throw Error("a string literal is not closed");
                    char d = text[i++];
                    if (d == c)
                        break;
                    if (d != '\\' || i >= text.Length)
                    {
                        value.Append(d);
                        continue;
                    }
                    char e = text[i++];
                    value.Append(e switch
                    {
                        'n' => "\n",
                        't' => "\t",
                        'r' => "\r",
                        '\\' => "\\",
                        '\'' => "'",
                        '"' => "\"",
                        _ => "\\" + e,
                    });
                }
                tokens.Add(new JinjaToken(JinjaTokenKind.String, value.ToString()));
            }
            else
            {
                var op = Operators.FirstOrDefault(o => string.CompareOrdinal(text, i, o, 0, o.Length) == 0)
                    ?? throw Error($"unexpected character '{c}'");
                tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op));
                i += op.Length;
            }
        }
        return tokens;
    }
}
