package dev.agentfn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A media type as RFC 9110 writes it in a header value: {@code type "/" subtype *( OWS ";" OWS [ parameter ] )}, a
 * parameter a token, {@code =}, and a token or a closed quoted string; empty parameters ({@code ;;}) are allowed.
 * One reader for every front door, so the API's 415 check and the gateway's charset check can never read one
 * {@code Content-Type} two ways.
 *
 * @param type the part before the first {@code ;}, stripped, as written (compare it ignoring case)
 * @param parameters the parameters read before the value ended or went wrong: names lower-cased, quoted values
 *        unquoted, in order
 * @param problem what is malformed ({@code "parameter 'x=' is malformed"}), or null when the value is well formed
 */
public record MediaType(String type, List<Map.Entry<String, String>> parameters, String problem) {

    public MediaType {
        parameters = List.copyOf(parameters);
    }

    /** Every media type of one header value, split at commas outside quoted strings (a list, though it should not be). */
    public static List<MediaType> parseAll(String value) {
        List<MediaType> out = new ArrayList<>();
        int[] at = {0};
        while (true) {
            out.add(parseAt(value, at));
            if (at[0] >= value.length()) {
                return out;
            }
            at[0]++; // past the comma
        }
    }

    /**
     * Every value of the parameter {@code name} (case-insensitive), in order: a repeated parameter
     * ({@code charset=utf-8; charset=latin1}) is ambiguous, so a check must look at all of them.
     */
    public List<String> parameterValues(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return parameters.stream().filter(p -> p.getKey().equals(n)).map(Map.Entry::getValue).toList();
    }

    public boolean wellFormed() {
        return problem == null;
    }

    /** Reads one media type from {@code at[0]}; leaves {@code at[0]} on the comma that ends it, or at the end. */
    private static MediaType parseAt(String v, int[] at) {
        int i = at[0];
        int typeEnd = i;
        while (typeEnd < v.length() && v.charAt(typeEnd) != ';' && v.charAt(typeEnd) != ',') {
            typeEnd++;
        }
        String type = v.substring(i, typeEnd).strip();
        List<Map.Entry<String, String>> params = new ArrayList<>();
        i = typeEnd;
        while (i < v.length() && v.charAt(i) != ',') {
            // here v.charAt(i) is the ';' opening a parameter
            i = skipWhiteSpace(v, i + 1);
            if (i == v.length() || v.charAt(i) == ';' || v.charAt(i) == ',') {
                continue; // an empty parameter
            }
            int nameEnd = tokenEnd(v, i);
            if (nameEnd == i || nameEnd == v.length() || v.charAt(nameEnd) != '=') {
                return malformed(type, params, "parameter '" + shorten(v.substring(i)) + "' is malformed", v, i, at);
            }
            int valueStart = nameEnd + 1;
            int valueEnd = valueStart < v.length() && v.charAt(valueStart) == '"' ? quotedEnd(v, valueStart)
                    : tokenEnd(v, valueStart);
            if (valueEnd <= valueStart) {
                return malformed(type, params, "parameter '" + shorten(v.substring(i)) + "' is malformed", v, i, at);
            }
            params.add(Map.entry(v.substring(i, nameEnd).toLowerCase(Locale.ROOT),
                    unquote(v.substring(valueStart, valueEnd))));
            i = skipWhiteSpace(v, valueEnd);
            if (i < v.length() && v.charAt(i) != ';' && v.charAt(i) != ',') {
                return malformed(type, params, "'" + shorten(v.substring(at[0]).strip()) + "' is malformed after its "
                        + "parameters", v, i, at);
            }
        }
        at[0] = i;
        return new MediaType(type, params, null);
    }

    /** A malformed media type; {@code at[0]} moves on to the next comma outside quoted strings. */
    private static MediaType malformed(String type, List<Map.Entry<String, String>> params, String problem, String v,
            int from, int[] at) {
        boolean quoted = false;
        int i = from;
        for (; i < v.length() && (quoted || v.charAt(i) != ','); i++) {
            char c = v.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            }
        }
        at[0] = i;
        return new MediaType(type, params, problem);
    }

    private static int skipWhiteSpace(String v, int i) {
        while (i < v.length() && (v.charAt(i) == ' ' || v.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private static int tokenEnd(String v, int i) {
        while (i < v.length() && isToken(v.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The index after the closing quote of the quoted string opening at {@code i}, or -1 when it never closes. */
    private static int quotedEnd(String v, int i) {
        for (int j = i + 1; j < v.length(); j++) {
            char c = v.charAt(j);
            if (c == '\\') {
                j++; // quoted-pair
            } else if (c == '"') {
                return j + 1;
            } else if (c < ' ' && c != '\t' || c == 127) {
                return -1;
            }
        }
        return -1;
    }

    /** RFC 9110 token characters. */
    public static boolean isToken(int c) {
        return c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
    }

    /** A quoted string's content (its quoted pairs resolved), or the token itself. */
    private static String unquote(String s) {
        if (!s.startsWith("\"")) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int j = 1; j < s.length() - 1; j++) {
            char c = s.charAt(j);
            b.append(c == '\\' && j + 1 < s.length() - 1 ? s.charAt(++j) : c);
        }
        return b.toString();
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
}
