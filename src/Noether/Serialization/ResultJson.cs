using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Noether.Serialization;

/// <summary>
/// JSON for results (summary.json and friends) through System.Text.Json, which formats numbers culture-invariantly
/// and round-trippably: camelCase property names, indented, enums as strings, NaN and ±∞ written as the strings
/// "NaN", "Infinity", "-Infinity" (plain JSON has no such numbers) and read back; non-ASCII text (σ, η, ‖·‖) written as is.
/// </summary>
public static class ResultJson
{
    /// <summary>The options every Noether JSON file is written with (read-only).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            // Results carry mathematics (σ, η, ‖·‖, Q̃): keep it readable instead of \uXXXX. The files are never embedded
            // in HTML unescaped, so the HTML-safety of the default encoder buys nothing here.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
            Converters = { new JsonStringEnumConverter() },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>The JSON text of <paramref name="value"/>.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Parses JSON text written by <see cref="Serialize{T}"/>.</summary>
    /// <exception cref="JsonException">The text is not valid JSON for <typeparamref name="T"/>.</exception>
    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"JSON 'null' cannot be read as {typeof(T).Name}");

    /// <summary>Writes <paramref name="value"/> as JSON (UTF-8, trailing newline) to <paramref name="path"/> atomically.</summary>
    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");

    /// <summary>Reads a JSON file written by <see cref="Write{T}"/>.</summary>
    /// <exception cref="DataFormatException">The file is not valid JSON for <typeparamref name="T"/>; the message names it.</exception>
    public static T Read<T>(string path)
    {
        var text = File.ReadAllText(path);
        try
        {
            return Deserialize<T>(text);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not valid JSON for {typeof(T).Name}: {e.Message}", e);
        }
    }
}
