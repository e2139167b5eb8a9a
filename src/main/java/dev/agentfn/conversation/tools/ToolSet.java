package dev.agentfn.conversation.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tools of one conversation: a subset of the catalogue.
 *
 * @param definitions what goes into the request's {@code tools}
 * @param mcpServers what goes into {@code mcp_servers} (holds credentials: never traced as is)
 * @param betas beta flags the selection needs
 */
public record ToolSet(Map<String, Tool> local, List<JsonNode> definitions, List<JsonNode> mcpServers,
        List<String> betas) {

    public static final ToolSet EMPTY = new ToolSet(Map.of(), List.of(), List.of(), List.of());

    public ToolSet {
        local = Map.copyOf(local);
        definitions = List.copyOf(definitions);
        mcpServers = List.copyOf(mcpServers);
        betas = List.copyOf(betas);
    }

    public Optional<Tool> local(String name) {
        return Optional.ofNullable(local.get(name));
    }
}
