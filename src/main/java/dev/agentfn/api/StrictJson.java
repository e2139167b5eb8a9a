package dev.agentfn.api;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.StrictJsonReader;
import dev.agentfn.config.AgentfnConfig;
import jakarta.inject.Singleton;

/**
 * The API's reader of request bodies ({@code POST /v1/invocations}, {@code POST /v1/evaluations}): the shared
 * {@link StrictJsonReader} (one JSON document in strict UTF-8, no duplicate keys, nesting bounded by
 * {@code agentfn.invocation.max-json-depth}), its refusals as 400 problems.
 */
@Singleton
public class StrictJson {
    private final StrictJsonReader reader;

    public StrictJson(ObjectMapper base, AgentfnConfig config) {
        this.reader = new StrictJsonReader(base, config.invocation().maxJsonDepth(), "agentfn.invocation.max-json-depth",
                StreamReadConstraints.DEFAULT_MAX_STRING_LEN);
    }

    /** The body's JSON document; a 400 problem when it is empty, not UTF-8, malformed or followed by more. */
    public JsonNode read(byte[] body) {
        try {
            return reader.read(body);
        } catch (StrictJsonReader.Invalid e) {
            throw ProblemException.badRequest(e.getMessage());
        }
    }
}
