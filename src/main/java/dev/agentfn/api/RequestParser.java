package dev.agentfn.api;

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
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.invocation.InvocationStage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Turns a request body into a validated conversation, or a 400 that says exactly what is wrong. */
final class RequestParser {
    private static final Set<String> ROLES = Set.of("user", "assistant");
    private static final int MAX_OUTPUT_TOKENS = 128_000;
    /**
     * The form of a model id: Anthropic's ({@code claude-sonnet-4-5-20250929}), Bedrock's
     * ({@code anthropic.claude-3-5-sonnet-20240620-v1:0}, inference profile ARNs), Vertex's
     * ({@code claude-3-5-sonnet@20240620}) and gateways' ({@code anthropic/claude-…}). Nothing else reaches
     * Anthropic, the trace or a log line: no spaces, quotes or control characters.
     */
    static final String MODEL_ID_REGEX = "^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,255}$";
    static final Pattern MODEL_ID = Pattern.compile(MODEL_ID_REGEX);
    static final String MODEL_ID_FORM = "1-256 characters: letters, digits and . _ : @ / + -, starting with a letter or digit";

    private final ObjectMapper json;
    private final StrictJson reader;
    private final AgentfnConfig config;
    private final AgentfnConfig.Invocation limits;
    /** Knows the engines, whose own rules a request must meet too. */
    private final InvocationStage stage;

    RequestParser(ObjectMapper json, StrictJson reader, AgentfnConfig config, InvocationStage stage) {
        this.json = strict(json);
        this.reader = reader;
        this.config = config;
        this.limits = config.invocation();
        this.stage = stage;
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
        JsonNode tree = reader.read(body);
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
        List<String> tools = admit(engine(r), messages, r.tools());
        checkSystem(r.system());
        checkMetadata(r.metadata());
        checkPromptVariables(r.promptVariables());
        checkShort("session_id", r.sessionId());
        checkShort("user", r.user());
        return new ConversationRequest(messages, r.system(), model, maxTokens, maxTurns, tools, r.sessionId(), r.user(),
                Deadline.after(config.invocation().deadline()));
    }

    String engine(InvocationRequest r) {
        String engine = r.engine() == null ? "messages" : r.engine();
        if (!stage.engineNames().contains(engine)) {
            throw ProblemException.badRequest("engine '" + engine + "' is not available; this deployment offers "
                    + new TreeSet<>(stage.engineNames()));
        }
        return engine;
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

    private void checkMessages(List<JsonNode> messages) {
        if (messages.isEmpty()) {
            throw ProblemException.badRequest("\"messages\" is empty");
        }
        if (messages.size() > limits.maxMessages()) {
            throw limit("\"messages\" has " + messages.size() + " entries", limits.maxMessages(), "max-messages");
        }
        String previous = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            // Set.of(…).contains(null) throws: a missing or non-string role is checked before the lookup.
            String role = m.path("role").isTextual() ? m.path("role").asText() : null;
            if (role == null || !ROLES.contains(role)) {
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
        if (!MODEL_ID.matcher(requested).matches()) {
            throw ProblemException.badRequest("\"model\" is not a model id; a model id has " + MODEL_ID_FORM);
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

    /** The engine's own rules (how many turns, which tools), as a 400 that says what to change. */
    private List<String> admit(String engine, List<JsonNode> messages, List<String> requested) {
        if (requested != null) {
            checkDistinct(requested);
        }
        try {
            return new ArrayList<>(stage.engine(engine).admit(messages, requested));
        } catch (ConversationException.InvalidRequest e) {
            throw ProblemException.badRequest(e.getMessage());
        }
    }

    private static void checkDistinct(List<String> tools) {
        Set<String> seen = new HashSet<>();
        for (String t : tools) {
            if (t == null) {
                throw ProblemException.badRequest("\"tools\" must list tool names (strings)");
            }
            if (!seen.add(t)) {
                throw ProblemException.badRequest("\"tools\" lists '" + t + "' more than once");
            }
        }
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

    /** Template variables are few and named like MLflow's ({@code {{ name }}}); a null value is no value. */
    private void checkPromptVariables(Map<String, String> variables) {
        if (variables == null) {
            return;
        }
        if (variables.size() > limits.maxMetadataEntries()) {
            throw limit("\"prompt_variables\" has " + variables.size() + " entries", limits.maxMetadataEntries(),
                    "max-metadata-entries");
        }
        variables.forEach((k, v) -> {
            if (v == null) {
                throw ProblemException.badRequest("\"prompt_variables\"." + k + " must be a string");
            }
        });
    }

    private void checkMetadata(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        if (metadata.size() > limits.maxMetadataEntries()) {
            throw limit("\"metadata\" has " + metadata.size() + " entries", limits.maxMetadataEntries(),
                    "max-metadata-entries");
        }
        for (var e : metadata.entrySet()) {
            String key = e.getKey();
            if (key.isBlank() || key.startsWith("mlflow.")) {
                throw ProblemException.badRequest("metadata key '" + key + "' must not be blank or start with \"mlflow.\"");
            }
            if (key.length() > limits.maxMetadataKeyLength()) {
                String start = key.substring(0, Math.min(40, key.length()));
                throw limit("metadata key '" + start + "…' has " + key.length() + " characters",
                        limits.maxMetadataKeyLength(), "max-metadata-key-length");
            }
            if (e.getValue() == null) {
                throw ProblemException.badRequest("metadata value of '" + key + "' must be a string");
            }
            if (e.getValue().length() > limits.maxMetadataValueLength()) {
                throw limit("metadata value of '" + key + "' has " + e.getValue().length() + " characters",
                        limits.maxMetadataValueLength(), "max-metadata-value-length");
            }
        }
    }

    /** A 400 naming the limit and the property that sets it. */
    private static ProblemException limit(String what, int max, String property) {
        return new ProblemException(Problem.of(400, "limit-exceeded", "Invalid request", what + "; the limit is "
                + max + " (agentfn.invocation." + property + ")"));
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
