using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Serialization;

/// <summary>
/// A network's weights in a safetensors file: the tensors under their PyTorch <c>state_dict</c> names (0.weight, …), read
/// once as float64, and the file's metadata, whose <see cref="ArchitectureKey"/> entry names the architecture in the
/// grammar of <see cref="ArchitectureSpec"/>. The one reader and writer of model files: every command that takes weights
/// goes through it, so a file is checked, and its architecture text parsed, the same way everywhere.
/// </summary>
public sealed class ModelFile
{
    /// <summary>The metadata key Noether writes the architecture under, e.g. "spec-cnn:in=1,size=28,channels=16,hidden=32,classes=10,slope=0.01".</summary>
    public const string ArchitectureKey = "noether.arch";

    private ModelFile(string path, IReadOnlyList<(string Name, Tensor<double> Tensor)> tensors, SafeTensorDType dtype, string dtypes,
        IReadOnlyDictionary<string, string> metadata)
    {
        (Path, Tensors, DType, DTypes, Metadata) = (path, tensors, dtype, dtypes, metadata);
        if (metadata.TryGetValue(ArchitectureKey, out var text))
        {
            ArchitectureText = text;
            try
            {
                Architecture = ArchitectureSpec.Parse(text);
            }
            catch (ArgumentException)
            {
                // A foreign or damaged entry is not an error until a caller needs the architecture (RequireSpecCnn says so then).
                Architecture = null;
            }
        }
    }

    /// <summary>The file's full path (it starts every error message).</summary>
    public string Path { get; }

    /// <summary>The tensors in file order, converted exactly to float64 (F32 and F64 only).</summary>
    public IReadOnlyList<(string Name, Tensor<double> Tensor)> Tensors { get; }

    /// <summary>The widest stored precision: F64 if any tensor is F64, else F32.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>The stored precisions in file order, e.g. "F32" or "F32/F64".</summary>
    public string DTypes { get; }

    /// <summary>The file's string metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The raw <see cref="ArchitectureKey"/> entry, or null.</summary>
    public string? ArchitectureText { get; }

    /// <summary>The parsed <see cref="ArchitectureKey"/> entry, or null when it is absent or not in the grammar.</summary>
    public ArchitectureSpec? Architecture { get; }

    /// <summary>The LeakyReLU slope a SPEC CNN entry records (its default 0.01 when the entry omits it), or null without one.</summary>
    public double? SpecCnnSlope => Architecture is { Kind: ArchitectureKind.SpecCnn } a ? a.Slope : null;

    /// <summary>Reads <paramref name="path"/>; every tensor must be F32 or F64 (integer tensors are not weights, and a conversion would silently round them).</summary>
    /// <exception cref="ArgumentException">The path is empty, a directory or missing, the file holds no tensors, or a tensor has
    /// another dtype; the message names the file (and the tensor).</exception>
    /// <exception cref="DataFormatException">The file is not valid safetensors.</exception>
    public static ModelFile Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw Errors.Argument(nameof(path), "a safetensors file is required");
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw Errors.Argument(nameof(path), $"{full} is a directory, expected a .safetensors file");
        if (!File.Exists(full)) throw Errors.Argument(nameof(path), $"{full} does not exist");
        var file = SafeTensors.Read(full);
        if (file.Tensors.Count == 0) throw Errors.Argument(nameof(path), $"{full}: the file holds no tensors");
        var dtype = SafeTensorDType.F32;
        var tensors = new List<(string, Tensor<double>)>(file.Tensors.Count);
        foreach (var t in file.Tensors)
        {
            if (t.DType is not (SafeTensorDType.F32 or SafeTensorDType.F64))
                throw Errors.Argument(nameof(path), $"{full}: tensor '{t.Name}' has dtype {SafeTensors.DTypeName(t.DType)}; expected F32 or F64 weights (in PyTorch: model.float() or model.double() before saving)");
            if (t.DType == SafeTensorDType.F64) dtype = SafeTensorDType.F64;
            tensors.Add((t.Name, t.ToTensor<double>()));
        }
        string dtypes = string.Join("/", file.Tensors.Select(t => SafeTensors.DTypeName(t.DType)).Distinct());
        return new ModelFile(full, tensors, dtype, dtypes, file.Metadata);
    }

    /// <summary>The network <paramref name="spec"/> describes, holding these weights (copied), in float64.</summary>
    /// <exception cref="ArgumentException">The tensors do not fit the spec; see <see cref="ArchitectureSpec.Build{T}"/>.</exception>
    public Sequential<double> Build(ArchitectureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Build(Tensors, Path);
    }

    /// <summary>
    /// The weights as a SPEC CNN whose shapes are read off the tensors (see <see cref="SpecCnnCopy.FromTensors{T}"/>),
    /// converted to <typeparamref name="T"/> (float32 rounds an F64 file once, as reading it as float32 directly would).
    /// </summary>
    /// <param name="leakySlope">LeakyReLU's slope; null: the file's <see cref="SpecCnnSlope"/>, else 0.01.</param>
    /// <param name="imageSize">The image side, or null to infer it from "3.weight".</param>
    /// <exception cref="ArgumentException">The tensors are not a SPEC CNN's; the message names the file, the tensor and both shapes.</exception>
    public SpecCnn<T> SpecCnn<T>(double? leakySlope = null, int? imageSize = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensors = typeof(T) == typeof(double)
            ? (IReadOnlyList<(string, Tensor<T>)>)Tensors
            : Tensors.Select(t => (t.Name, t.Tensor.Cast<T>())).ToList();
        try
        {
            return SpecCnnCopy.FromTensors(tensors, leakySlope ?? SpecCnnSlope ?? 0.01, imageSize);
        }
        catch (ArgumentException e)
        {
            throw Errors.Argument(nameof(Tensors), $"{Path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The SPEC CNN the file's <see cref="ArchitectureKey"/> entry describes, built from its tensors and checked against every
    /// size the entry gives.
    /// </summary>
    /// <exception cref="ArgumentException">The entry is missing or not a spec-cnn one, or the tensors do not fit it.</exception>
    public SpecCnn<double> RequireSpecCnn()
    {
        if (Architecture is not { Kind: ArchitectureKind.SpecCnn } spec)
            throw Errors.Argument(nameof(Architecture), ArchitectureText is null
                ? $"{Path} has no '{ArchitectureKey}' metadata describing a SPEC CNN (write it with `noether train`)"
                : $"{Path}: '{ArchitectureKey}' = '{ArchitectureText}' does not describe a SPEC CNN (write it with `noether train`)");
        return (SpecCnn<double>)Build(spec);
    }

    /// <summary>The <see cref="ArchitectureKey"/> text of a SPEC CNN: its sizes and LeakyReLU slope (<see cref="ArchitectureSpec.Of{T}(SpecCnn{T})"/>).</summary>
    public static string SpecCnnArchitecture<T>(SpecCnn<T> model) where T : unmanaged, IFloatingPointIeee754<T> => ArchitectureSpec.Of(model).Text;

    /// <summary>Writes <paramref name="parameters"/> under their names in <paramref name="dtype"/> (F32 rounds, F64 keeps float64), atomically.</summary>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is neither F32 nor F64.</exception>
    public static void Write<T>(string path, IEnumerable<Parameter<T>> parameters, SafeTensorDType dtype, IReadOnlyDictionary<string, string> metadata)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (dtype is not (SafeTensorDType.F32 or SafeTensorDType.F64)) throw Errors.OutOfRange(nameof(dtype), dtype, "F32 or F64");
        var tensors = parameters.Select(p => dtype == SafeTensorDType.F64
            ? SafeTensor.FromTensor(p.Name, p.Value.Cast<double>())
            : SafeTensor.FromTensor(p.Name, p.Value.Cast<float>())).ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>The parameters as the file would hold them in <paramref name="dtype"/>: F32 rounds each value once, F64 keeps it.</summary>
    public static List<(string Name, Tensor<double> Tensor)> AsStored(IEnumerable<Parameter<double>> parameters, SafeTensorDType dtype)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.Select(p => (p.Name, dtype == SafeTensorDType.F64 ? p.Value.Clone() : p.Value.Cast<float>().Cast<double>())).ToList();
    }
}
