package dev.agentfn.standin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One {@code tool_use} block the fake model asks for.
 *
 * @param id    {@code toolu_…} id; {@code null} generates a random one
 * @param name  tool name as declared in the request's {@code tools}
 * @param input tool arguments; {@code null} means {@code {}}. Insertion order is kept so
 *              the streamed {@code partial_json} is deterministic.
 */
public record ToolCall(String id, String name, Map<String, Object> input) {

    public ToolCall {
        Objects.requireNonNull(name, "name");
        id = id != null ? id : Ids.toolUse();
        input = input == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(input));
    }

    /** A call with a generated id. */
    public static ToolCall of(String name, Map<String, Object> input) {
        return new ToolCall(null, name, input);
    }
}
