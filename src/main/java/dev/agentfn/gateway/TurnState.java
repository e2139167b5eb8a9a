package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.Usage;
import dev.agentfn.tracing.Ids;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a turn's trace needs to remember between its requests: when the turn started, each model call's usage and
 * cost (keyed by the call's position, so a retried request replaces its call instead of counting twice), when each
 * agent's latest answer ended (a tool call runs from there to the request that returns its result), and the
 * subagents started by the turn. Small, and written with every piece of the trace into its MLflow metadata
 * ({@link #KEY}), so an instance that never saw the turn picks it up from there; memory is only a cache of it.
 * Guarded by its own monitor.
 */
final class TurnState {
    /**
     * Trace metadata holding this state as JSON, cut into values of {@link #CHUNK} characters under {@code KEY.0},
     * {@code KEY.1}, … with their count under {@code KEY}: MLflow keeps 250 characters of a metadata value.
     */
    static final String KEY = "agentfn.gateway.turn";
    static final int CHUNK = 240;
    private static final String HEX = "0123456789abcdef";
    /** The agent key of the main agent (subagents are keyed by their agent id). */
    static final String MAIN = "main";

    /**
     * A subagent of this turn: its span, the tool span it runs under, and what started it. Its prompt is not kept: every
     * request of the subagent carries it as its first message.
     */
    record Subagent(String spanId, String parentSpanId, String type, String description, long startNanos) {
    }

    /**
     * An Agent or Task tool call of an answer, waiting for the subagent it starts, known by a digest of its prompt: the
     * state travels in the trace's metadata with every write, and a prompt can be long.
     */
    record PendingAgentCall(String toolUseId, String promptDigest, String description, String type) {
        static PendingAgentCall of(String toolUseId, String prompt, String description, String type) {
            return new PendingAgentCall(toolUseId, digest(prompt), TracedText.of(description), TracedText.of(type));
        }
    }

    /** What identifies a subagent's prompt in the state (32 hex characters). */
    static String digest(String prompt) {
        return Ids.derived(16, "agentfn-gateway-agent-prompt", prompt);
    }

    private final String otelTraceId;
    private final long startNanos;
    private final Map<String, Usage> usage = new LinkedHashMap<>();
    private final Map<String, Pricing.Cost> cost = new LinkedHashMap<>();
    private final Map<String, Long> answerEnds = new LinkedHashMap<>();
    private final Map<String, Subagent> subagents = new LinkedHashMap<>();
    private final Map<String, PendingAgentCall> pendingAgentCalls = new LinkedHashMap<>();
    private long updatedNanos;
    private boolean closed;

    TurnState(String otelTraceId, long startNanos) {
        this.otelTraceId = otelTraceId;
        this.startNanos = startNanos;
        this.updatedNanos = startNanos;
    }

    String otelTraceId() {
        return otelTraceId;
    }

    long startNanos() {
        return startNanos;
    }

    synchronized void call(String agent, int position, Usage u, Pricing.Cost c, long endNanos) {
        usage.put(agent + "/" + position, u);
        cost.put(agent + "/" + position, c);
        answerEnds.put(agent, endNanos);
        touch(endNanos);
    }

    /** Whether this copy of the state has seen the agent's call at this position (else another instance may have). */
    synchronized boolean knows(String agent, int position) {
        return usage.containsKey(agent + "/" + position);
    }

    synchronized Usage totalUsage() {
        return usage.values().stream().reduce(Usage.ZERO, Usage::plus);
    }

    synchronized Pricing.Cost totalCost() {
        return cost.values().stream().reduce(Pricing.Cost.ZERO, Pricing.Cost::plus);
    }

    synchronized Optional<Long> answerEnd(String agent) {
        return Optional.ofNullable(answerEnds.get(agent));
    }

    synchronized void pendingAgentCall(PendingAgentCall call) {
        pendingAgentCalls.put(call.toolUseId(), call);
    }

    /** The pending Agent/Task call whose prompt is this subagent's first message (else the oldest one pending). */
    /** Whether an Agent/Task call with this prompt waits for its subagent's first request. */
    synchronized boolean hasAgentCall(String prompt) {
        String d = digest(prompt);
        return pendingAgentCalls.values().stream().anyMatch(c -> c.promptDigest().equals(d));
    }

    /** Whether any Agent/Task call waits for its subagent's first request. */
    synchronized boolean waitsForAgent() {
        return !pendingAgentCalls.isEmpty();
    }

    synchronized Optional<PendingAgentCall> takeAgentCall(String prompt) {
        String d = digest(prompt);
        PendingAgentCall match = pendingAgentCalls.values().stream().filter(c -> c.promptDigest().equals(d)).findFirst()
                .orElse(pendingAgentCalls.values().stream().findFirst().orElse(null));
        if (match != null) {
            pendingAgentCalls.remove(match.toolUseId());
        }
        return Optional.ofNullable(match);
    }

    synchronized Optional<Subagent> subagent(String agentId) {
        return Optional.ofNullable(subagents.get(agentId));
    }

    synchronized void subagent(String agentId, Subagent s) {
        subagents.put(agentId, s);
    }

    synchronized void touch(long nanos) {
        updatedNanos = Math.max(updatedNanos, nanos);
    }

    synchronized long updatedNanos() {
        return updatedNanos;
    }

    synchronized boolean closed() {
        return closed;
    }

    synchronized void close() {
        closed = true;
    }

    synchronized String toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("trace", otelTraceId).put("start", startNanos).put("updated", updatedNanos).put("closed", closed);
        ObjectNode calls = root.putObject("calls");
        usage.forEach((k, u) -> {
            Pricing.Cost c = cost.getOrDefault(k, Pricing.Cost.ZERO);
            calls.putArray(k).add(u.inputTokens()).add(u.outputTokens()).add(u.cacheReadInputTokens())
                    .add(u.cacheCreationInputTokens()).add(c.inputUsd()).add(c.outputUsd());
        });
        ObjectNode ends = root.putObject("ends");
        answerEnds.forEach(ends::put);
        ObjectNode subs = root.putObject("subagents");
        subagents.forEach((id, s) -> subs.putObject(id).put("span", s.spanId()).put("parent", s.parentSpanId())
                .put("type", s.type()).put("description", s.description())
                .put("start", s.startNanos()));
        ObjectNode pending = root.putObject("pending");
        pendingAgentCalls.forEach((id, p) -> pending.putObject(id).put("prompt_digest", p.promptDigest())
                .put("description", p.description()).put("type", p.type()));
        return ascii(root.toString());
    }

    /**
     * JSON text with every non-ASCII character as a {@code \\uXXXX} escape: the prompts in it are the caller's, and
     * a {@link #CHUNK} boundary inside a surrogate pair would leave each metadata value half a character, which
     * cannot be written as UTF-8. Outside strings JSON text is ASCII, so the escapes are always inside one.
     */
    private static String ascii(String json) {
        StringBuilder b = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c < 0x80) {
                b.append(c);
            } else {
                b.append("\\u").append(HEX.charAt(c >> 12)).append(HEX.charAt(c >> 8 & 0xf)).append(HEX.charAt(c >> 4 & 0xf))
                        .append(HEX.charAt(c & 0xf));
            }
        }
        return b.toString();
    }

    /** The state as trace metadata entries (see {@link #KEY}). */
    Map<String, String> toMetadata() {
        String json = toJson();
        Map<String, String> out = new LinkedHashMap<>();
        int n = 0;
        for (int i = 0; i < json.length(); i += CHUNK, n++) {
            out.put(KEY + "." + n, json.substring(i, Math.min(json.length(), i + CHUNK)));
        }
        out.put(KEY, Integer.toString(n));
        return out;
    }

    /** The JSON text stored by {@link #toMetadata}, if complete. */
    static Optional<String> jsonIn(Map<String, String> metadata) {
        String count = metadata.get(KEY);
        if (count == null) {
            return Optional.empty();
        }
        StringBuilder json = new StringBuilder();
        for (int i = 0; i < Integer.parseInt(count.strip()); i++) {
            String part = metadata.get(KEY + "." + i);
            if (part == null) {
                return Optional.empty();
            }
            json.append(part);
        }
        return Optional.of(json.toString());
    }

    static TurnState fromJson(JsonNode node) {
        TurnState s = new TurnState(node.path("trace").asText(), node.path("start").asLong());
        s.updatedNanos = node.path("updated").asLong(s.startNanos);
        s.closed = node.path("closed").asBoolean(false);
        node.path("calls").fields().forEachRemaining(e -> {
            JsonNode a = e.getValue();
            s.usage.put(e.getKey(), new Usage(a.path(0).asLong(), a.path(1).asLong(), a.path(2).asLong(), a.path(3).asLong()));
            s.cost.put(e.getKey(), new Pricing.Cost(a.path(4).asDouble(), a.path(5).asDouble()));
        });
        node.path("ends").fields().forEachRemaining(e -> s.answerEnds.put(e.getKey(), e.getValue().asLong()));
        node.path("subagents").fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            s.subagents.put(e.getKey(), new Subagent(v.path("span").asText(), v.path("parent").asText(),
                    v.path("type").asText(), v.path("description").asText(), v.path("start").asLong()));
        });
        node.path("pending").fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            // a state written before prompts were kept as digests holds the prompt itself
            String digest = v.has("prompt_digest") ? v.path("prompt_digest").asText() : digest(v.path("prompt").asText());
            s.pendingAgentCalls.put(e.getKey(), new PendingAgentCall(e.getKey(), digest, v.path("description").asText(),
                    v.path("type").asText()));
        });
        return s;
    }
}
