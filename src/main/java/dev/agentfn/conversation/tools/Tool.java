package dev.agentfn.conversation.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Deadline;
import java.util.concurrent.CompletableFuture;

/** A tool this function runs itself when the model asks for it. Never completes exceptionally. */
public interface Tool {

    String name();

    /** The Messages API definition: {@code {name, description, input_schema}}. */
    ObjectNode definition();

    CompletableFuture<ToolResult> call(JsonNode input, Deadline deadline);
}
