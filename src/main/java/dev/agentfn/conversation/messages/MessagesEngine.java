package dev.agentfn.conversation.messages;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.messages.wire.ContentBlock;
import dev.agentfn.conversation.messages.wire.Message;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.conversation.tools.ToolResult;
import dev.agentfn.conversation.tools.ToolSet;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The Messages API tool loop (claude-conversations spec 1.3): run every {@code tool_use} and answer
 * with one user turn of results; re-send on {@code pause_turn}; stop on any other reason or when
 * {@code max_turns} is reached. Assistant turns go back verbatim.
 */
public final class MessagesEngine implements ConversationEngine {
    public static final String NAME = "messages";

    private final AnthropicClient client;
    private final ToolCatalog catalog;
    private final Pricing pricing;
    private final ObjectMapper json;
    private final ChatSpans spans;

    public MessagesEngine(AnthropicClient client, ToolCatalog catalog, Pricing pricing, ObjectMapper json) {
        this.client = client;
        this.catalog = catalog;
        this.pricing = pricing;
        this.json = json;
        this.spans = new ChatSpans(json);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Any history; the tools are the deployment's catalogue, which a request can only narrow. */
    @Override
    public List<String> admit(List<JsonNode> messages, List<String> requestedTools) {
        if (requestedTools == null) {
            return catalog.names();
        }
        try {
            catalog.select(Optional.of(requestedTools));
        } catch (IllegalArgumentException e) {
            throw new ConversationException.InvalidRequest(e.getMessage());
        }
        return List.copyOf(requestedTools);
    }

    @Override
    public CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
            ConversationListener listener) {
        ToolSet tools = catalog.select(Optional.of(request.tools()));
        MessagesRequest first = new MessagesRequest(request.model(), request.maxTokens(), request.messages(),
                request.system(), tools.definitions(), tools.mcpServers(), null, tools.betas());
        return new Loop(request, tools, trace, listener).turn(first);
    }

    /** State of one conversation; each step runs after the previous one completed, never concurrently. */
    private final class Loop {
        private final ConversationRequest request;
        private final ToolSet tools;
        private final ActiveTrace trace;
        private final ConversationListener listener;
        private int turns;
        private Usage usage = Usage.ZERO;
        private Pricing.Cost cost = Pricing.Cost.ZERO;

        Loop(ConversationRequest request, ToolSet tools, ActiveTrace trace, ConversationListener listener) {
            this.request = request;
            this.tools = tools;
            this.trace = trace;
            this.listener = listener;
        }

        CompletableFuture<ConversationResult> turn(MessagesRequest call) {
            if (request.deadline().expired()) {
                return CompletableFuture.failedFuture(
                        new ConversationException.DeadlineExceeded("the invocation deadline passed between turns"));
            }
            LiveSpan span = spans.startCall(trace, call);
            turns++;
            return client.call(call, observer(span), request.deadline())
                    .handle((result, err) -> {
                        if (err != null) {
                            failCall(span, err);
                            return CompletableFuture.<ConversationResult>failedFuture(err);
                        }
                        return afterCall(call, span, result);
                    })
                    .thenCompose(f -> f);
        }

        private CompletableFuture<ConversationResult> afterCall(MessagesRequest call, LiveSpan span,
                AnthropicClient.CallResult result) {
            Message m = result.message();
            String model = m.model() == null || m.model().isEmpty() ? call.model() : m.model();
            Pricing.Cost callCost = pricing.cost(model, m.usage());
            usage = usage.plus(m.usage());
            cost = cost.plus(callCost);
            long end = trace.nowNanos();
            spans.remoteTools(trace, span, m, end);
            spans.endCall(span, result, callCost);
            String container = m.container() != null && m.container().hasNonNull("id")
                    ? m.container().get("id").asText() : call.container();
            List<JsonNode> history = new ArrayList<>(call.messages());
            history.add(m.asAssistantTurn());
            if ("pause_turn".equals(m.stopReason()) && turns < request.maxTurns()) {
                return turn(call.withMessages(history, container));
            }
            if (!"tool_use".equals(m.stopReason()) || m.toolUses().isEmpty()) {
                return CompletableFuture.completedFuture(result(m, m.stopReason()));
            }
            if (turns >= request.maxTurns()) {
                return CompletableFuture.completedFuture(result(m, "max_turns"));
            }
            return runTools(m.toolUses()).thenCompose(toolResults -> {
                history.add(toolResults);
                return turn(call.withMessages(history, container));
            });
        }

        /** Every tool call of the turn runs at once; the results go back in the order of the calls. */
        private CompletableFuture<JsonNode> runTools(List<ContentBlock.ToolUse> uses) {
            List<CompletableFuture<ObjectNode>> calls = uses.stream().map(this::runTool).toList();
            return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(v -> {
                ObjectNode userTurn = json.createObjectNode().put("role", "user");
                ArrayNode content = userTurn.putArray("content");
                calls.forEach(c -> content.add(c.join()));
                return userTurn;
            });
        }

        private CompletableFuture<ObjectNode> runTool(ContentBlock.ToolUse use) {
            listener.toolCall(use.id(), use.name(), use.input());
            LiveSpan span = spans.startTool(trace, use);
            CompletableFuture<ToolResult> call = tools.local(use.name())
                    .map(t -> t.call(use.input(), request.deadline()))
                    .orElseGet(() -> CompletableFuture.completedFuture(
                            ToolResult.error("tool " + use.name() + " is not available in this conversation")));
            return call.thenApply(r -> {
                spans.endTool(span, r.content(), r.isError());
                listener.toolResult(use.id(), use.name(), r.content(), r.isError());
                ObjectNode block = json.createObjectNode().put("type", "tool_result").put("tool_use_id", use.id())
                        .put("content", r.content());
                if (r.isError()) {
                    block.put("is_error", true);
                }
                return block;
            });
        }

        private ConversationResult result(Message last, String stopReason) {
            String model = last.model() == null || last.model().isEmpty() ? request.model() : last.model();
            return new ConversationResult(last.text(), last.contentJson(), stopReason, turns, usage, cost, model,
                    request.sessionId());
        }

        private AnthropicClient.CallObserver observer(LiveSpan span) {
            return new AnthropicClient.CallObserver() {
                @Override
                public void textDelta(String text) {
                    listener.textDelta(text);
                }

                @Override
                public void retry(int retry, int status, String errorType, java.time.Duration delay) {
                    spans.retry(span, retry, status, errorType, delay);
                }

                @Override
                public boolean relayedAnything() {
                    return listener.relayedAnything();
                }
            };
        }

        private void failCall(LiveSpan span, Throwable err) {
            Throwable cause = Futures.unwrap(err);
            String type = cause instanceof ConversationException.Upstream u ? u.errorType() : cause.getClass().getSimpleName();
            if (cause instanceof ConversationException.Upstream u && u.requestId() != null) {
                span.attribute("anthropic.request_id", u.requestId());
            }
            span.recordError(type, cause.getMessage(), cause);
            span.end();
        }
    }
}
