using System.Text.RegularExpressions;
using Noether.Tensors;

namespace Noether.Nn;

/// <summary>The network families <see cref="ArchitectureSpec"/> describes.</summary>
public enum ArchitectureKind
{
    /// <summary>A fully connected network: Linear, σ, Linear, σ, …, Linear (no activation after the last layer).</summary>
    Mlp,

    /// <summary>The SPEC CNN of <c>noether train</c> (<see cref="SpecCnn{T}"/>).</summary>
    SpecCnn,
}

/// <summary>
/// A short text naming a network's architecture, so that weights saved by PyTorch or by Noether can be rebuilt into a
/// <see cref="Sequential{T}"/>. Grammar (case-insensitive, no spaces):
/// <code>
/// mlp:N0-N1-…-NL[:ACT]      widths n₀ (input) … n_L (output), L ≥ 2 Linear layers; ACT on every hidden layer:
///                           relu (default) | leaky-relu[=SLOPE] (no slope: PyTorch's 0.01) | identity | linear | sigmoid | tanh
/// spec-cnn[:KEY=VALUE,…]    the SPEC CNN; its sizes are read from the weights; optional keys check them or set the
///                           LeakyReLU slope: in, size, channels, hidden, classes, slope (default 0.01)
/// </code>
/// An MLP's tensors are named as PyTorch's <c>nn.Sequential(Linear, ReLU, Linear, …)</c> names them in its
/// <c>state_dict</c>: "K.weight" [n_{i+1}, n_i] and optionally "K.bias" [n_{i+1}], where K is the layer's index in the
/// Sequential (0, 2, 4, … with activation modules in between; any increasing indices are accepted, so
/// <c>nn.Sequential(Linear, Linear)</c> with 0, 1 works too). The Linear layers are taken in increasing K.
/// </summary>
public sealed partial class ArchitectureSpec
{
    private static readonly string[] SpecCnnKeys = ["in", "size", "channels", "hidden", "classes", "slope"];

    private ArchitectureSpec(string text, ArchitectureKind kind, int[] widths, ActivationKind activation, double slope,
        IReadOnlyDictionary<string, int> sizes)
    {
        (Text, Kind, _widths, Activation, Slope, _sizes) = (text, kind, widths, activation, slope, sizes);
    }

    private readonly int[] _widths;
    private readonly IReadOnlyDictionary<string, int> _sizes;

    /// <summary>The text this spec was parsed from.</summary>
    public string Text { get; }

    /// <summary>Which family.</summary>
    public ArchitectureKind Kind { get; }

    /// <summary>An MLP's widths (n₀, …, n_L); empty for the SPEC CNN (its sizes come from the weights).</summary>
    public IReadOnlyList<int> Widths => _widths;

    /// <summary>The hidden activation (LeakyReLU for the SPEC CNN).</summary>
    public ActivationKind Activation { get; }

    /// <summary>The LeakyReLU slope (0 for other activations).</summary>
    public double Slope { get; }

    /// <summary>The hidden activation σ (its family <see cref="Activation"/>, its slope <see cref="Slope"/>).</summary>
    public Nn.Activation ActivationFunction => Nn.Activation.Of(Activation, Slope);

    /// <summary>Parses the grammar of the type's summary.</summary>
    /// <exception cref="ArgumentException">The text is malformed; the message quotes it and names the part that is wrong.</exception>
    public static ArchitectureSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Length == 0) throw Bad(text, "it is empty; expected mlp:N0-N1-…-NL[:ACT] or spec-cnn[:KEY=VALUE,…]");
        int colon = t.IndexOf(':');
        string family = (colon < 0 ? t : t[..colon]).ToLowerInvariant();
        string rest = colon < 0 ? "" : t[(colon + 1)..];
        return family switch
        {
            "mlp" => ParseMlp(text, rest, colon >= 0),
            "spec-cnn" or "speccnn" or "spec_cnn" => ParseSpecCnn(text, rest),
            _ => throw Bad(text, $"the family '{(colon < 0 ? t : t[..colon])}' is unknown; expected mlp or spec-cnn"),
        };
    }

    private static ArchitectureSpec ParseMlp(string text, string rest, bool hadColon)
    {
        if (!hadColon || rest.Length == 0) throw Bad(text, "mlp needs its widths, e.g. mlp:784-128-10:relu");
        int colon = rest.IndexOf(':');
        string widthsPart = colon < 0 ? rest : rest[..colon];
        string? activationPart = colon < 0 ? null : rest[(colon + 1)..];
        var parts = widthsPart.Split('-');
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w <= 0)
                throw Bad(text, $"width {i} ('{parts[i]}') is not a positive integer (widths are separated by '-')");
            widths[i] = w;
        }
        if (widths.Length < 3)
            throw Bad(text, $"the widths '{widthsPart}' give {widths.Length - 1} Linear layer(s); at least two (N0-N1-N2) are needed for a hidden layer the symmetry acts on");
        var (kind, slope) = ParseActivation(text, activationPart);
        return new ArchitectureSpec(text, ArchitectureKind.Mlp, widths, kind, slope, new Dictionary<string, int>());
    }

    private static (ActivationKind, double) ParseActivation(string text, string? part)
    {
        if (part is null) return (ActivationKind.Relu, 0);
        string p = part.ToLowerInvariant();
        var leaky = LeakyPattern().Match(p);
        if (leaky.Success)
        {
            double slope = Nn.Activation.PyTorchLeakySlope;
            if (leaky.Groups[1].Success &&
                (!double.TryParse(leaky.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out slope) || !double.IsFinite(slope) || slope < 0))
                throw Bad(text, $"the LeakyReLU slope '{leaky.Groups[1].Value}' is not a finite number ≥ 0");
            if (slope == 1) return (ActivationKind.Identity, 0);
            if (slope == 0) return (ActivationKind.Relu, 0);
            return (ActivationKind.LeakyRelu, slope);
        }
        return p switch
        {
            "relu" => (ActivationKind.Relu, 0),
            "identity" or "linear" or "none" => (ActivationKind.Identity, 0),
            "sigmoid" => (ActivationKind.Sigmoid, 0),
            "tanh" => (ActivationKind.Tanh, 0),
            _ => throw Bad(text, $"the activation '{part}' is unknown; expected relu, leaky-relu[=SLOPE], identity, sigmoid or tanh"),
        };
    }

    private static ArchitectureSpec ParseSpecCnn(string text, string rest)
    {
        var sizes = new Dictionary<string, int>();
        var given = new HashSet<string>();
        double slope = Nn.Activation.PyTorchLeakySlope;
        if (rest.Length > 0)
            foreach (var item in rest.Split(','))
            {
                int eq = item.IndexOf('=');
                string key = (eq < 0 ? item : item[..eq]).Trim().ToLowerInvariant();
                string value = eq < 0 ? "" : item[(eq + 1)..].Trim();
                if (!SpecCnnKeys.Contains(key))
                    throw Bad(text, $"'{item}' is not a spec-cnn setting; expected KEY=VALUE with KEY one of {string.Join(", ", SpecCnnKeys)}");
                if (!given.Add(key)) throw Bad(text, $"'{key}' is given twice");
                if (key == "slope")
                {
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out slope) || !double.IsFinite(slope) || slope < 0)
                        throw Bad(text, $"slope '{value}' is not a finite number ≥ 0");
                    continue;
                }
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
                    throw Bad(text, $"{key} '{value}' is not a positive integer");
                if (key == "size" && n % 2 != 0) throw Bad(text, $"size {n} is odd; the SPEC CNN's 2×2 max-pool needs an even image side");
                sizes[key] = n;
            }
        return new ArchitectureSpec(text, ArchitectureKind.SpecCnn, [], ActivationKind.LeakyRelu, slope, sizes);
    }

    /// <summary>
    /// The spec of a SPEC CNN: its sizes and LeakyReLU slope, as <c>noether train</c> writes it into a model file
    /// ("spec-cnn:in=1,size=28,channels=16,hidden=32,classes=10,slope=0.01"); <see cref="Build{T}"/> of it rebuilds the model.
    /// </summary>
    public static ArchitectureSpec Of<T>(SpecCnn<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        return Parse(string.Create(CultureInfo.InvariantCulture,
            $"spec-cnn:in={model.InChannels},size={model.ImageSize},channels={model.Conv.OutChannels},hidden={model.Hidden.OutFeatures},classes={model.Output.OutFeatures},slope={model.Activation.Slope}"));
    }

    /// <summary>
    /// Builds the network holding <paramref name="tensors"/> (copied). <paramref name="source"/> (a file name) starts
    /// every error message.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is missing, unexpected, of the wrong shape for this spec, or not finite;
    /// the message names the tensor, its shape and the shape the spec needs.</exception>
    public Sequential<T> Build<T>(IReadOnlyList<(string Name, Tensor<T> Tensor)> tensors, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(source);
        return Kind == ArchitectureKind.Mlp ? BuildMlp(tensors, source) : BuildSpecCnn(tensors, source);
    }

    private Sequential<T> BuildMlp<T>(IReadOnlyList<(string Name, Tensor<T> Tensor)> tensors, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = new SortedDictionary<int, (string Name, Tensor<T> Tensor)>();
        var biases = new Dictionary<int, (string Name, Tensor<T> Tensor)>();
        foreach (var (name, tensor) in tensors)
        {
            var m = ParameterName().Match(name);
            if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int k))
                throw Errors.Argument(nameof(tensors), $"{source}: tensor '{name}' is not a Linear layer's 'K.weight' or 'K.bias' (as nn.Sequential names them) that {Text} expects");
            var target = m.Groups[2].Value == "weight" ? weights : (IDictionary<int, (string, Tensor<T>)>)biases;
            if (!target.TryAdd(k, (name, tensor))) throw Errors.Argument(nameof(tensors), $"{source}: tensor '{name}' occurs twice");
        }
        int layers = _widths.Length - 1;
        if (weights.Count != layers)
            throw Errors.Argument(nameof(tensors), $"{source}: {Text} has {layers} Linear layers but the file holds {weights.Count} weight tensor(s)" +
                (weights.Count > 0 ? $" ({string.Join(", ", weights.Values.Select(w => w.Name))})" : ""));
        foreach (var k in biases.Keys)
            if (!weights.ContainsKey(k)) throw Errors.Argument(nameof(tensors), $"{source}: tensor '{biases[k].Name}' has no matching '{k}.weight'");
        var modules = new List<Module<T>>();
        int i = 0;
        foreach (var (k, (name, w)) in weights)
        {
            int rows = _widths[i + 1], cols = _widths[i];
            if (w.Rank != 2 || w.Dim(0) != rows || w.Dim(1) != cols)
                throw Errors.Argument(nameof(tensors), $"{source}: tensor '{name}' has shape [{Dims(w.Shape)}] but {Text} needs [{rows}, {cols}] for Linear layer {i + 1} ({cols} → {rows})");
            CheckFinite(w, name, source);
            Tensor<T>? bias = null;
            if (biases.TryGetValue(k, out var b))
            {
                if (!b.Tensor.HasShape(rows))
                    throw Errors.Argument(nameof(tensors), $"{source}: tensor '{b.Name}' has shape [{Dims(b.Tensor.Shape)}] but {Text} needs [{rows}]");
                CheckFinite(b.Tensor, b.Name, source);
                bias = b.Tensor.Clone();
            }
            modules.Add(new Linear<T>(w.Clone(), bias, k.ToString(CultureInfo.InvariantCulture)));
            if (i + 1 < layers) modules.Add(new Activation<T>(ActivationFunction, $"activation{i + 1}"));
            i++;
        }
        return new Sequential<T>("mlp", [.. modules]);
    }

    private SpecCnn<T> BuildSpecCnn<T>(IReadOnlyList<(string Name, Tensor<T> Tensor)> tensors, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SpecCnn<T> model;
        try
        {
            model = SpecCnnCopy.FromTensors(tensors, Slope, _sizes.TryGetValue("size", out int s) ? s : null);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(nameof(tensors), $"{source}: {Errors.Plain(e)}", e);
        }
        Check("in", model.InChannels);
        Check("size", model.ImageSize);
        Check("channels", model.Conv.OutChannels);
        Check("hidden", model.Hidden.OutFeatures);
        Check("classes", model.Output.OutFeatures);
        return model;

        void Check(string key, int actual)
        {
            if (_sizes.TryGetValue(key, out int wanted) && wanted != actual)
                throw Errors.Argument(nameof(tensors), $"{source}: {Text} says {key}={wanted} but the weights have {key}={actual}");
        }
    }

    private static void CheckFinite<T>(Tensor<T> t, string name, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!t.AllFinite()) throw Errors.Argument("tensors", $"{source}: tensor '{name}' contains NaN or ∞");
    }

    private static string Dims(ReadOnlySpan<int> shape) => string.Join(", ", shape.ToArray());

    private static ArgumentException Bad(string text, string problem) => new($"architecture '{text}': {problem}");

    [GeneratedRegex(@"^leaky[-_]?relu(?:[=:](.*))?$")]
    private static partial Regex LeakyPattern();

    [GeneratedRegex(@"^(\d{1,9})\.(weight|bias)$")]
    private static partial Regex ParameterName();

    /// <inheritdoc/>
    public override string ToString() => Text;
}
