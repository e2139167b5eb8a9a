package dev.agentfn.api;

import dev.agentfn.JsonErrors;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The one reader of request bodies ({@code POST /v1/invocations}, {@code POST /v1/evaluations}): exactly one
 * JSON document in strict UTF-8, no duplicate keys, bounded nesting. Anything else is a 400 that says what is
 * wrong, where. Lenient parsing would let two readers of the same bytes disagree (a proxy that keeps the first
 * duplicate key, we the last; an overlong {@code C0 AF} that a filter does not see as {@code /}).
 */
@Singleton
public class StrictJson {
    private final ObjectMapper json;
    private final int maxDepth;

    public StrictJson(ObjectMapper base, AgentfnConfig config) {
        this.maxDepth = config.invocation().maxJsonDepth();
        this.json = base.copy().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).build());
    }

    /** The body's JSON document; a 400 problem when it is empty, not UTF-8, malformed or followed by more. */
    public JsonNode read(byte[] body) {
        if (body == null || body.length == 0) {
            throw ProblemException.badRequest("the request body is empty; send one JSON object");
        }
        String text = utf8(body);
        try (JsonParser p = json.createParser(text)) {
            JsonNode tree = json.readTree(p);
            if (tree == null || tree.isMissingNode()) {
                throw ProblemException.badRequest("the request body has no JSON document, only white space");
            }
            nothingAfter(p);
            return tree;
        } catch (StreamConstraintsException e) {
            // the nesting bound is ours; Jackson's other bounds (number and string lengths) say what they are
            throw ProblemException.badRequest(String.valueOf(e.getOriginalMessage()).toLowerCase(java.util.Locale.ROOT)
                    .contains("nesting depth") ? "the JSON nests deeper than " + maxDepth
                    + " levels (agentfn.invocation.max-json-depth)" : "the JSON is too large: " + JsonErrors.reason(e));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " " + at(e.getLocation());
            throw ProblemException.badRequest("malformed JSON" + where + ": " + JsonErrors.reason(e));
        } catch (IOException e) {
            throw ProblemException.badRequest("malformed JSON: " + e.getMessage());
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
            throw ProblemException.badRequest("unexpected content after the JSON document, which ends " + at(end)
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
            throw ProblemException.badRequest("the request body is not valid UTF-8 (at byte " + in.position()
                    + "); send JSON encoded as UTF-8");
        }
    }

    private static String at(JsonLocation loc) {
        return "at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }
}
