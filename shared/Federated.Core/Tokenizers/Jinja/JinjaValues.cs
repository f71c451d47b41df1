using System.Collections;
using System.Globalization;
using System.Text;

namespace Federated.Core.Tokenizers.Jinja;

/// <summary>
/// Values as templates see them: null (none), <see cref="Undefined"/>, bool, long, double, string,
/// List&lt;object?&gt; (lists and tuples), Dictionary&lt;string, object?&gt; (in insertion order), callables.
/// Operators follow Python, as Jinja does.
/// </summary>
internal static class JinjaValues
{
    public sealed class UndefinedValue
    {
        public override string ToString() => "";
    }

    public static UndefinedValue Undefined { get; } = new();

    public static object? FromClr(object? value) => value switch
    {
        null or string or bool or long or double or UndefinedValue or JinjaCallable => value,
        int i => (long)i,
        float f => (double)f,
        IReadOnlyDictionary<string, object?> d => d.ToDictionary(p => p.Key, p => FromClr(p.Value)),
        IDictionary d => d.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => FromClr(d[k])),
        IEnumerable e => e.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ArgumentException($"a {value.GetType().Name} cannot be passed to a chat template"),
    };

    public static bool IsTrue(object? value) => value switch
    {
        null or UndefinedValue => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    public static string ToText(object? value) => value switch
    {
        null => "None",
        UndefinedValue => "",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        List<object?> list => "[" + string.Join(", ", list.Select(Repr)) + "]",
        Dictionary<string, object?> dict => "{" + string.Join(", ", dict.Select(p => Repr(p.Key) + ": " + Repr(p.Value))) + "}",
        _ => value.ToString() ?? "",
    };

    private static string Repr(object? value) => value is string s ? "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'" : ToText(value);

    private static string FormatFloat(double d)
    {
        if (double.IsInfinity(d) || double.IsNaN(d))
            return double.IsNaN(d) ? "nan" : d > 0 ? "inf" : "-inf";
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }

    public static string Describe(object? value) => value switch
    {
        null => "none",
        UndefinedValue => "an undefined value",
        string => "a string",
        bool => "a boolean",
        long => "an integer",
        double => "a float",
        List<object?> => "a list",
        Dictionary<string, object?> => "a mapping",
        JinjaCallable => "a function",
        _ => value.GetType().Name,
    };

    public static List<object?> Iterate(object? value, string where) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> dict => [.. dict.Keys],
        string s => [.. s.EnumerateRunes().Select(r => (object?)r.ToString())],
        UndefinedValue => [],
        _ => throw new JinjaException($"chat template: {where}: {Describe(value)} cannot be iterated"),
    };

    public static new bool Equals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (UndefinedValue, UndefinedValue) => true,
        (long x, long y) => x == y,
        (long x, double y) => x == y,
        (double x, long y) => x == y,
        (double x, double y) => x == y,
        (bool x, bool y) => x == y,
        (string x, string y) => x == y,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
        (Dictionary<string, object?> x, Dictionary<string, object?> y) => x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var v) && Equals(p.Value, v)),
        _ => false,
    };

    public static object? Binary(string op, object? a, object? b)
    {
        switch (op)
        {
            case "==":
                return Equals(a, b);
            case "!=":
                return !Equals(a, b);
            case "in":
                return b switch
                {
                    string s when a is string sub => s.Contains(sub, StringComparison.Ordinal),
                    List<object?> list => list.Any(x => Equals(x, a)),
                    Dictionary<string, object?> dict => a is string key && dict.ContainsKey(key),
                    UndefinedValue => false,
                    _ => throw Error(op, a, b),
                };
            case "~":
                return ToText(a) + ToText(b);
            case "<" or ">" or "<=" or ">=":
                int order = (a, b) switch
                {
                    (string x, string y) => string.CompareOrdinal(x, y),
                    _ when IsNumber(a) && IsNumber(b) => ToDouble(a).CompareTo(ToDouble(b)),
                    _ => throw Error(op, a, b),
                };
                return op switch { "<" => order < 0, ">" => order > 0, "<=" => order <= 0, _ => order >= 0 };
            case "+":
                return (a, b) switch
                {
                    (string x, string y) => (object?)(x + y),
                    (List<object?> x, List<object?> y) => (object?)(x.Concat(y).ToList()),
                    (long x, long y) => (object?)(x + y),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(ToDouble(a) + ToDouble(b)),
                    _ => throw Error(op, a, b),
                };
            case "-":
                return (a, b) switch
                {
                    (long x, long y) => (object?)(x - y),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(ToDouble(a) - ToDouble(b)),
                    _ => throw Error(op, a, b),
                };
            case "*":
                return (a, b) switch
                {
                    (long x, long y) => (object?)(x * y),
                    (string s, long n) => (object?)(string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)))),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(ToDouble(a) * ToDouble(b)),
                    _ => throw Error(op, a, b),
                };
            case "/":
                return IsNumber(a) && IsNumber(b) ? ToDouble(a) / ToDouble(b) : throw Error(op, a, b);
            case "//":
                return (a, b) switch
                {
                    (long x, long y) when y != 0 => (object?)((long)Math.Floor((double)x / y)),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(Math.Floor(ToDouble(a) / ToDouble(b))),
                    _ => throw Error(op, a, b),
                };
            case "%":
                return (a, b) switch
                {
                    (long x, long y) when y != 0 => (object?)(((x % y) + y) % y),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(ToDouble(a) - (ToDouble(b) * Math.Floor(ToDouble(a) / ToDouble(b)))),
                    _ => throw Error(op, a, b),
                };
            case "**":
                return (a, b) switch
                {
                    (long x, long y) when y >= 0 => (object?)((long)Math.Pow(x, y)),
                    _ when IsNumber(a) && IsNumber(b) => (object?)(Math.Pow(ToDouble(a), ToDouble(b))),
                    _ => throw Error(op, a, b),
                };
            default:
                throw new JinjaException($"chat template: the operator {op} is not supported");
        }
    }

    private static JinjaException Error(string op, object? a, object? b) => new($"chat template: {Describe(a)} {op} {Describe(b)} is not defined");

    public static bool IsNumber(object? value) => value is long or double;

    public static double ToDouble(object? value) => value is long l ? l : (double)value!;

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Dictionary<string, object?> dict:
                return key is string name && dict.TryGetValue(name, out var value) ? value : Undefined;
            case List<object?> list when key is long index:
                index = index < 0 ? list.Count + index : index;
                return index >= 0 && index < list.Count ? list[(int)index] : Undefined;
            case string s when key is long index:
                var runes = s.EnumerateRunes().ToList();
                index = index < 0 ? runes.Count + index : index;
                return index >= 0 && index < runes.Count ? runes[(int)index].ToString() : Undefined;
            case UndefinedValue:
            case null:
                throw new JinjaException($"chat template: cannot read [{ToText(key)}] of {Describe(target)}");
            default:
                return Undefined;
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        long? Index(object? v) => v switch { null or UndefinedValue => null, long l => l, _ => throw new JinjaException($"chat template: a slice index must be an integer, got {Describe(v)}") };
        List<object?> items = target switch
        {
            List<object?> list => list,
            string s => [.. s.EnumerateRunes().Select(r => (object?)r.ToString())],
            _ => throw new JinjaException($"chat template: {Describe(target)} cannot be sliced"),
        };
        long n = items.Count, by = Index(step) ?? 1;
        if (by == 0)
            throw new JinjaException("chat template: a slice step cannot be zero");
        long Clamp(long? v, long fallback, long low, long high) => v is not { } x ? fallback : Math.Clamp(x < 0 ? x + n : x, low, high);
        var result = new List<object?>();
        if (by > 0)
        {
            for (long i = Clamp(Index(start), 0, 0, n), end = Clamp(Index(stop), n, 0, n); i < end; i += by)
                result.Add(items[(int)i]);
        }
        else
        {
            for (long i = Clamp(Index(start), n - 1, -1, n - 1), end = Clamp(Index(stop), -1, -1, n - 1); i > end; i += by)
                result.Add(items[(int)i]);
        }
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    /// <summary>JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII kept), which tojson uses.</summary>
    public static string ToJson(object? value, int? indent, int depth = 0)
    {
        string Newline(int d) => indent is { } n ? "\n" + new string(' ', n * d) : "";
        switch (value)
        {
            case null or UndefinedValue:
                return "null";
            case bool b:
                return b ? "true" : "false";
            case long or double:
                return ToText(value);
            case string s:
                var text = new StringBuilder("\"");
                foreach (var c in s)
                {
                    text.Append(c switch
                    {
                        '"' => "\\\"",
                        '\\' => "\\\\",
                        '\n' => "\\n",
                        '\r' => "\\r",
                        '\t' => "\\t",
                        '\b' => "\\b",
                        '\f' => "\\f",
                        < ' ' => $"\\u{(int)c:x4}",
                        _ => c.ToString(),
                    });
                }
                return text.Append('"').ToString();
            case List<object?> list:
                if (list.Count == 0)
                    return "[]";
                return "[" + string.Join(indent is null ? ", " : ",", list.Select(x => Newline(depth + 1) + ToJson(x, indent, depth + 1))) + Newline(depth) + "]";
            case Dictionary<string, object?> dict:
                if (dict.Count == 0)
                    return "{}";
                return "{" + string.Join(indent is null ? ", " : ",", dict.Select(p => Newline(depth + 1) + ToJson(p.Key, indent) + ": " + ToJson(p.Value, indent, depth + 1))) + Newline(depth) + "}";
            default:
                throw new JinjaException($"chat template: {Describe(value)} cannot be written as JSON");
        }
    }
}
