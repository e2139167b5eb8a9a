package dev.agentfn.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.claudecode.ClaudeCodeEngine;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.tools.ToolCatalog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Turns a request body into a validated conversation, or a 400 that says exactly what is wrong. */
final class RequestParser {
    private static final Set<String> ROLES = Set.of("user", "assistant");
    private static final int MAX_OUTPUT_TOKENS = 128_000;

    private final ObjectMapper json;
    private final AgentfnConfig config;
    private final ToolCatalog catalog;
    private final Set<String> engines;

    RequestParser(ObjectMapper json, AgentfnConfig config, ToolCatalog catalog, Set<String> engines) {
        this.json = strict(json);
        this.config = config;
        this.catalog = catalog;
        this.engines = engines;
    }

    /** Jackson would turn {@code 5} into {@code "5"} and {@code "5"} into {@code 5}; a 400 is clearer. */
    private static ObjectMapper strict(ObjectMapper base) {
        ObjectMapper m = base.copy().disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        for (LogicalType t : List.of(LogicalType.Textual, LogicalType.Integer, LogicalType.Collection, LogicalType.Map)) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.String, t == LogicalType.Textual ? CoercionAction.TryConvert
                            : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, t == LogicalType.Textual ? CoercionAction.TryConvert
                            : CoercionAction.Fail);
        }
        m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return m;
    }

    InvocationRequest parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw ProblemException.badRequest("the request body is empty; send a JSON object with \"prompt\" or \"messages\"");
        }
        JsonNode tree = readTree(body);
        if (!tree.isObject()) {
            throw ProblemException.badRequest("the request body must be a JSON object");
        }
        TreeSet<String> unknown = new TreeSet<>();
        tree.fieldNames().forEachRemaining(f -> {
            if (!InvocationRequest.FIELDS.contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw ProblemException.badRequest("unknown fields " + unknown + "; accepted fields are "
                    + new TreeSet<>(InvocationRequest.FIELDS));
        }
        try {
            return json.treeToValue(tree, InvocationRequest.class);
        } catch (MismatchedInputException e) {
            throw ProblemException.badRequest("field '" + path(e) + "' has the wrong type: " + expected(e));
        } catch (JsonProcessingException e) {
            throw ProblemException.badRequest("invalid request: " + e.getOriginalMessage());
        }
    }

    ConversationRequest toConversation(InvocationRequest r) {
        List<JsonNode> messages = messages(r);
        String model = model(r.model());
        int maxTokens = bounded("max_tokens", r.maxTokens(), config.invocation().defaultMaxTokens(), MAX_OUTPUT_TOKENS);
        int maxTurns = bounded("max_turns", r.maxTurns(), config.invocation().defaultMaxTurns(),
                config.invocation().maxTurnsLimit());
        boolean claudeCode = ClaudeCodeEngine.NAME.equals(r.engine());
        if (claudeCode && messages.size() > 1) {
            throw ProblemException.badRequest("engine claude-code takes one user turn; continue a conversation by "
                    + "sending its \"session_id\" again (agentfn.claude-code.session-dir must be set)");
        }
        List<String> tools = claudeCode ? cliTools(r.tools()) : tools(r.tools());
        checkSystem(r.system());
        checkMetadata(r.metadata());
        checkShort("session_id", r.sessionId());
        checkShort("user", r.user());
        return new ConversationRequest(messages, r.system(), model, maxTokens, maxTurns, tools, r.sessionId(), r.user(),
                Deadline.after(config.invocation().deadline()));
    }

    String engine(InvocationRequest r) {
        String engine = r.engine() == null ? "messages" : r.engine();
        if (!engines.contains(engine)) {
            throw ProblemException.badRequest("engine '" + engine + "' is not available; this deployment offers "
                    + new TreeSet<>(engines));
        }
        return engine;
    }

    private JsonNode readTree(byte[] body) {
        try {
            JsonNode tree = json.readTree(body);
            if (tree == null || tree.isMissingNode()) {
                throw ProblemException.badRequest("the request body is empty");
            }
            return tree;
        } catch (JsonParseException e) {
            var loc = e.getLocation();
            throw ProblemException.badRequest("malformed JSON at line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ProblemException.badRequest("malformed JSON: " + e.getMessage());
        }
    }

    private List<JsonNode> messages(InvocationRequest r) {
        boolean hasPrompt = r.prompt() != null;
        boolean hasMessages = r.messages() != null;
        if (hasPrompt == hasMessages) {
            throw ProblemException.badRequest(hasPrompt ? "send either \"prompt\" or \"messages\", not both"
                    : "send \"prompt\" (a string) or \"messages\" (a conversation)");
        }
        if (hasPrompt) {
            if (r.prompt().isBlank()) {
                throw ProblemException.badRequest("\"prompt\" is empty");
            }
            ObjectNode turn = JsonNodeFactory.instance.objectNode().put("role", "user").put("content", r.prompt());
            return List.of(turn);
        }
        checkMessages(r.messages());
        return r.messages();
    }

    private static void checkMessages(List<JsonNode> messages) {
        if (messages.isEmpty()) {
            throw ProblemException.badRequest("\"messages\" is empty");
        }
        String previous = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText(null);
            if (!m.isObject() || !ROLES.contains(role)) {
                throw ProblemException.badRequest("messages[" + i + "].role must be \"user\" or \"assistant\"");
            }
            if (role.equals(previous)) {
                throw ProblemException.badRequest("messages[" + i + "] repeats role \"" + role
                        + "\"; user and assistant turns must alternate");
            }
            checkContent(i, m.path("content"));
            previous = role;
        }
        if (!"user".equals(messages.get(0).path("role").asText())) {
            throw ProblemException.badRequest("messages[0] must be a user turn");
        }
        if (!"user".equals(previous)) {
            throw ProblemException.badRequest("the last message must be a user turn");
        }
    }

    private static void checkContent(int i, JsonNode content) {
        if (content.isTextual() && !content.asText().isBlank()) {
            return;
        }
        if (content.isArray() && !content.isEmpty()) {
            for (int j = 0; j < content.size(); j++) {
                if (!content.get(j).isObject() || !content.get(j).path("type").isTextual()) {
                    throw ProblemException.badRequest("messages[" + i + "].content[" + j + "] must be a block with a \"type\"");
                }
            }
            return;
        }
        throw ProblemException.badRequest("messages[" + i + "].content must be a non-empty string or list of blocks");
    }

    private String model(String requested) {
        String fallback = config.anthropic().defaultModel();
        if (requested == null) {
            return fallback;
        }
        if (requested.isBlank()) {
            throw ProblemException.badRequest("\"model\" is empty");
        }
        Optional<List<String>> allowed = config.anthropic().allowedModels();
        if (allowed.isPresent() && !allowed.get().contains(requested) && !requested.equals(fallback)) {
            throw ProblemException.badRequest("model '" + requested + "' is not allowed here; allowed: "
                    + allowed.get() + " and " + fallback);
        }
        return requested;
    }

    private static int bounded(String field, Integer value, int fallback, int max) {
        if (value == null) {
            return Math.min(fallback, max);
        }
        if (value < 1 || value > max) {
            throw ProblemException.badRequest("\"" + field + "\" must be between 1 and " + max + ", got " + value);
        }
        return value;
    }

    private List<String> tools(List<String> requested) {
        if (requested == null) {
            return catalog.names();
        }
        try {
            catalog.select(Optional.of(requested));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
        return new ArrayList<>(requested);
    }

    /** CLI tool names: a request can only narrow the deployment's allow-list (empty list: all of it). */
    private List<String> cliTools(List<String> requested) {
        if (requested == null) {
            return List.of();
        }
        AgentfnConfig.ClaudeCode cc = config.claudeCode();
        List<String> refused = requested.stream().filter(t -> !cc.allowedTools().contains(t)
                || (t.equals("Bash") && !cc.bashEnabled())).toList();
        if (!refused.isEmpty()) {
            throw ProblemException.badRequest("tools " + refused + " are not available to engine claude-code; "
                    + "allowed: " + cc.allowedTools().stream().filter(t -> cc.bashEnabled() || !t.equals("Bash")).toList()
                    + " (agentfn.claude-code.allowed-tools)");
        }
        return new ArrayList<>(requested);
    }

    private static void checkSystem(JsonNode system) {
        if (system == null || system.isNull() || system.isTextual()) {
            return;
        }
        boolean blocks = system.isArray();
        for (JsonNode b : system) {
            blocks &= "text".equals(b.path("type").asText()) && b.path("text").isTextual();
        }
        if (!blocks) {
            throw ProblemException.badRequest("\"system\" must be a string or a list of {\"type\":\"text\",\"text\":…} blocks");
        }
    }

    private static void checkMetadata(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        for (var e : metadata.entrySet()) {
            if (e.getKey().isBlank() || e.getKey().length() > 250 || e.getKey().startsWith("mlflow.")) {
                throw ProblemException.badRequest("metadata key '" + e.getKey()
                        + "' must be 1-250 characters and not start with \"mlflow.\"");
            }
            if (e.getValue() == null || e.getValue().length() > 8000) {
                throw ProblemException.badRequest("metadata value of '" + e.getKey() + "' must be a string of at most 8000 characters");
            }
        }
    }

    private static void checkShort(String field, String value) {
        if (value != null && (value.isBlank() || value.length() > 250)) {
            throw ProblemException.badRequest("\"" + field + "\" must be 1-250 characters");
        }
    }

    private static String path(MismatchedInputException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String expected(MismatchedInputException e) {
        Class<?> t = e.getTargetType();
        if (t == null) {
            return e.getOriginalMessage();
        }
        if (t == Integer.class || t == int.class) {
            return "expected an integer";
        }
        if (t == String.class) {
            return "expected a string";
        }
        if (List.class.isAssignableFrom(t)) {
            return "expected a list";
        }
        if (Map.class.isAssignableFrom(t)) {
            return "expected an object of strings";
        }
        return "expected " + t.getSimpleName();
    }
}
