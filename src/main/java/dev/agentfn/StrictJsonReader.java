package dev.agentfn;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Every front door's reader of a request body: exactly one JSON document in strict UTF-8, no duplicate keys, bounded
 * nesting. Anything else is an {@link Invalid} that says what is wrong, where, in words the front door answers with
 * in its own error shape. Lenient parsing would let two readers of the same bytes disagree (a proxy or upstream that
 * keeps the first duplicate key, we the last; an overlong {@code C0 AF} that a filter does not see as {@code /};
 * a second document that one reader ignores) — and the gateway relays the bytes while it traces what it parsed.
 */
public final class StrictJsonReader {
    /** A body that is not one strict JSON document; the message is fit for the caller (no echo of the input). */
    public static final class Invalid extends RuntimeException {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private final ObjectMapper json;
    private final int maxDepth;
    private final String depthSetting;

    /**
     * @param maxDepth deepest nesting of objects and arrays accepted
     * @param depthSetting what sets {@code maxDepth}, named in the refusal (a property, or why it is fixed)
     * @param maxStringLength longest string value, in characters (Jackson's default is 20 million)
     */
    public StrictJsonReader(ObjectMapper base, int maxDepth, String depthSetting, int maxStringLength) {
        this.maxDepth = maxDepth;
        this.depthSetting = depthSetting;
        this.json = base.copy().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth)
                .maxStringLength(maxStringLength).build());
    }

    /** The body's JSON document; {@link Invalid} when it is empty, not UTF-8, malformed or followed by more. */
    public JsonNode read(byte[] body) {
        if (body == null || body.length == 0) {
            throw new Invalid("the request body is empty; send one JSON object");
        }
        String text = utf8(body);
        try (JsonParser p = json.createParser(text)) {
            JsonNode tree = json.readTree(p);
            if (tree == null || tree.isMissingNode()) {
                throw new Invalid("the request body has no JSON document, only white space");
            }
            nothingAfter(p);
            return tree;
        } catch (StreamConstraintsException e) {
            // the nesting bound is ours; Jackson's other bounds (number and string lengths) say what they are
            throw new Invalid(String.valueOf(e.getOriginalMessage()).toLowerCase(Locale.ROOT).contains("nesting depth")
                    ? "the JSON nests deeper than " + maxDepth + " levels (" + depthSetting + ")"
                    : "the JSON is too large: " + JsonErrors.reason(e));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " " + at(e.getLocation());
            throw new Invalid("malformed JSON" + where + ": " + JsonErrors.reason(e));
        } catch (IOException e) {
            throw new Invalid("malformed JSON: " + LogText.escape(e.getMessage()));
        }
    }

    /** A second document or garbage after the first is refused, not silently ignored. */
    private static void nothingAfter(JsonParser p) throws IOException {
        JsonLocation end = p.currentLocation();
        boolean more;
        try {
            more = p.nextToken() != null;
        } catch (JsonProcessingException e) {
            more = true;
        }
        if (more) {
            throw new Invalid("unexpected content after the JSON document, which ends " + at(end)
                    + "; send exactly one JSON object");
        }
    }

    /** Strict decoding: Jackson's own UTF-8 reader would accept overlong forms and surrogates. */
    private static String utf8(byte[] body) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            return decoder.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new Invalid("the request body is not valid UTF-8 (at byte " + in.position()
                    + "); send JSON encoded as UTF-8");
        }
    }

    private static String at(JsonLocation loc) {
        return "at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }
}
