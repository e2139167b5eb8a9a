package dev.agentfn.conversation.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The deployment's tools, built once from configuration: HTTP tools this function calls, Anthropic
 * server tools, and remote MCP servers. A request may only pick from it.
 */
public final class ToolCatalog {
    static final String MCP_BETA = "mcp-client-2025-11-20";

    private final Map<String, Tool> local = new LinkedHashMap<>();
    private final Map<String, ObjectNode> server = new LinkedHashMap<>();
    private final Map<String, ObjectNode> mcpServers = new LinkedHashMap<>();
    private final Map<String, ObjectNode> mcpToolsets = new LinkedHashMap<>();

    /** @param http asked for only when HTTP tools are configured: building one costs a cold start ~0.1 s */
    public ToolCatalog(AgentfnConfig.Tools config, java.util.function.Supplier<HttpClient> http, ObjectMapper json) {
        Optional<List<String>> allowedHosts = config.allowedHosts();
        config.http().forEach((name, t) -> local.put(name, httpTool(name, t, allowedHosts, http.get(), json)));
        config.server().forEach((name, t) -> server.put(name, serverTool(name, t, json)));
        config.mcp().forEach((name, m) -> {
            mcpServers.put(name, mcpServer(name, m, json));
            mcpToolsets.put(name, mcpToolset(name, m, json));
        });
    }

    public List<String> names() {
        List<String> all = new ArrayList<>(local.keySet());
        all.addAll(server.keySet());
        all.addAll(mcpServers.keySet());
        return all;
    }

    /**
     * The requested subset; no request means every tool.
     *
     * @throws IllegalArgumentException naming the tools the catalogue does not have
     */
    public ToolSet select(Optional<List<String>> requested) {
        List<String> names = requested.orElseGet(this::names);
        TreeSet<String> unknown = new TreeSet<>(names);
        unknown.removeAll(names());
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown tools " + unknown + "; this deployment offers " + names());
        }
        Map<String, Tool> chosen = new LinkedHashMap<>();
        List<JsonNode> definitions = new ArrayList<>();
        List<JsonNode> mcp = new ArrayList<>();
        for (String name : names) {
            if (local.containsKey(name)) {
                chosen.put(name, local.get(name));
                definitions.add(local.get(name).definition());
            } else if (server.containsKey(name)) {
                definitions.add(server.get(name));
            } else {
                mcp.add(mcpServers.get(name));
                definitions.add(mcpToolsets.get(name));
            }
        }
        return new ToolSet(chosen, definitions, mcp, mcp.isEmpty() ? List.of() : List.of(MCP_BETA));
    }

    private static Tool httpTool(String name, AgentfnConfig.HttpTool t, Optional<List<String>> allowedHosts,
            HttpClient http, ObjectMapper json) {
        URI url = URI.create(t.url());
        if (url.getHost() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
            throw new IllegalStateException("agentfn.tools.http." + name + ".url must be an http(s) URL");
        }
        if (allowedHosts.isPresent() && !allowedHosts.get().contains(url.getHost())) {
            throw new IllegalStateException("agentfn.tools.http." + name + ".url host " + url.getHost()
                    + " is not in agentfn.tools.allowed-hosts");
        }
        ObjectNode def = json.createObjectNode().put("name", name).put("description", t.description());
        def.set("input_schema", parseSchema(name, t.inputSchema(), json));
        return new HttpTool(name, def, url, t.timeout(), (int) Math.min(Integer.MAX_VALUE, t.maxResponseSize().asLongValue()),
                http, json);
    }

    private static JsonNode parseSchema(String name, String schema, ObjectMapper json) {
        try {
            JsonNode node = json.readTree(schema);
            if (!node.isObject() || !"object".equals(node.path("type").asText())) {
                throw new IllegalStateException("agentfn.tools.http." + name + ".input-schema must be a JSON schema of type object");
            }
            return node;
        } catch (IOException e) {
            throw new IllegalStateException("agentfn.tools.http." + name + ".input-schema is not JSON: " + e.getMessage());
        }
    }

    private static ObjectNode serverTool(String name, AgentfnConfig.ServerTool t, ObjectMapper json) {
        ObjectNode def = json.createObjectNode().put("type", t.type()).put("name", name);
        t.maxUses().ifPresent(n -> def.put("max_uses", n));
        t.allowedDomains().ifPresent(d -> d.forEach(def.withArray("allowed_domains")::add));
        return def;
    }

    private static ObjectNode mcpServer(String name, AgentfnConfig.McpServer m, ObjectMapper json) {
        ObjectNode def = json.createObjectNode().put("type", "url").put("url", m.url()).put("name", name);
        m.authorizationToken().ifPresent(tok -> def.put("authorization_token", tok));
        return def;
    }

    private static ObjectNode mcpToolset(String name, AgentfnConfig.McpServer m, ObjectMapper json) {
        ObjectNode def = json.createObjectNode().put("type", "mcp_toolset").put("mcp_server_name", name);
        m.allowedTools().ifPresent(allowed -> {
            def.putObject("default_config").put("enabled", false);
            ObjectNode configs = def.putObject("configs");
            allowed.forEach(tool -> configs.putObject(tool).put("enabled", true));
        });
        return def;
    }
}
