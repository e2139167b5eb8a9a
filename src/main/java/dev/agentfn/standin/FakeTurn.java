package dev.agentfn.standin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One scripted answer of the fake model. Each request to {@code /v1/messages} pops one turn
 * from the server's queue. Every turn may carry its own latency (delay before the first
 * response byte); {@code null} means "use the server-wide default latency".
 *
 * <pre>{@code
 * FakeTurn.text("Hello").withStopReason("max_tokens");
 * FakeTurn.toolUse("Let me look.", ToolCall.of("search", Map.of("q", "x"))).withThinking("hmm");
 * FakeTurn.error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "1"));
 * FakeTurn.midStreamError("overloaded_error", "Overloaded", 1);
 * FakeTurn.dropConnection(0).withLatency(Duration.ofMillis(200));
 * }</pre>
 */
public sealed interface FakeTurn
        permits FakeTurn.Reply, FakeTurn.HttpError, FakeTurn.MidStreamError, FakeTurn.DropConnection {

    /** Delay before the first byte, or {@code null} for the server default. */
    Duration latency();

    FakeTurn withLatency(Duration latency);

    // ---- factories ------------------------------------------------------------------------

    /** A text answer with {@code stop_reason:"end_turn"}. */
    static Reply text(String text) {
        return reply("end_turn", FakeBlock.text(text));
    }

    /** Optional leading text, then one {@code tool_use} block per call; {@code stop_reason:"tool_use"}. */
    static Reply toolUse(String text, ToolCall... calls) {
        if (calls.length == 0) {
            throw new IllegalArgumentException("toolUse needs at least one call");
        }
        List<FakeBlock> blocks = new ArrayList<>();
        if (text != null && !text.isEmpty()) {
            blocks.add(FakeBlock.text(text));
        }
        Arrays.stream(calls).map(FakeBlock::toolUse).forEach(blocks::add);
        return new Reply(blocks, "tool_use", null, null, null);
    }

    /** A thinking block (deterministic signature) followed by a text answer. */
    static Reply thinking(String thinking, String text) {
        return text(text).withThinking(thinking);
    }

    /** Free-form content, for shapes the shortcuts above don't cover. */
    static Reply reply(String stopReason, FakeBlock... blocks) {
        return new Reply(List.of(blocks), stopReason, null, null, null);
    }

    /** An HTTP error answer with the real API's body shape; {@code headers} may be empty. */
    static HttpError error(int status, String type, String message, Map<String, String> headers) {
        return new HttpError(status, type, message, headers, null);
    }

    /** An HTTP error with the type and message the real API uses for that status. */
    static HttpError error(int status) {
        return error(status, ApiErrors.typeFor(status), ApiErrors.messageFor(status), Map.of());
    }

    /**
     * HTTP 200 SSE that streams {@code afterBlocks} complete text blocks, then an
     * {@code event: error} frame, then ends. A JSON (non-streaming) request gets the HTTP
     * status that matches {@code type} instead, because the real API can only fail that way.
     */
    static MidStreamError midStreamError(String type, String message, int afterBlocks) {
        return new MidStreamError(partialReply(afterBlocks), type, message, afterBlocks, null);
    }

    /**
     * HTTP 200 SSE that streams {@code afterBlocks} complete text blocks, then closes the
     * socket without the terminating chunk. A JSON request sees the socket close before
     * any response byte.
     */
    static DropConnection dropConnection(int afterBlocks) {
        return new DropConnection(partialReply(afterBlocks), afterBlocks, null);
    }

    private static Reply partialReply(int blocks) {
        FakeBlock[] content = new FakeBlock[blocks];
        for (int i = 0; i < blocks; i++) {
            content[i] = FakeBlock.text("partial block " + (i + 1));
        }
        return reply("end_turn", content);
    }

    // ---- turn shapes ----------------------------------------------------------------------

    /**
     * A normal assistant message.
     *
     * @param usage {@code null} = deterministic estimate (see {@link FakeUsage#estimate})
     */
    record Reply(List<FakeBlock> content, String stopReason, String stopSequence, FakeUsage usage,
                 Duration latency) implements FakeTurn {
        public Reply {
            content = List.copyOf(content);
            Objects.requireNonNull(stopReason, "stopReason");
        }

        /** end_turn, max_tokens, stop_sequence, tool_use, pause_turn, refusal, model_context_window_exceeded. */
        public Reply withStopReason(String reason) {
            return new Reply(content, reason, stopSequence, usage, latency);
        }

        /** Sets {@code stop_reason:"stop_sequence"} and the matched sequence. */
        public Reply withStopSequence(String sequence) {
            return new Reply(content, "stop_sequence", sequence, usage, latency);
        }

        public Reply withUsage(FakeUsage newUsage) {
            return new Reply(content, stopReason, stopSequence, newUsage, latency);
        }

        public Reply withUsage(int input, int output, int cacheRead, int cacheCreation) {
            return withUsage(new FakeUsage(input, output, cacheRead, cacheCreation));
        }

        /** Prepends a thinking block, as models with thinking enabled answer. */
        public Reply withThinking(String thinking) {
            List<FakeBlock> blocks = new ArrayList<>();
            blocks.add(FakeBlock.thinking(thinking));
            blocks.addAll(content);
            return new Reply(blocks, stopReason, stopSequence, usage, latency);
        }

        @Override
        public Reply withLatency(Duration newLatency) {
            return new Reply(content, stopReason, stopSequence, usage, newLatency);
        }
    }

    /** An HTTP error response (never SSE), optionally with retry headers. */
    record HttpError(int status, String type, String message, Map<String, String> headers,
                     Duration latency) implements FakeTurn {
        public HttpError {
            headers = headers == null ? Map.of() : Map.copyOf(headers);
        }

        @Override
        public HttpError withLatency(Duration newLatency) {
            return new HttpError(status, type, message, headers, newLatency);
        }
    }

    /** 200 SSE, {@code afterBlocks} blocks of {@code partial}, then an error frame. */
    record MidStreamError(Reply partial, String type, String message, int afterBlocks,
                          Duration latency) implements FakeTurn {
        @Override
        public MidStreamError withLatency(Duration newLatency) {
            return new MidStreamError(partial, type, message, afterBlocks, newLatency);
        }
    }

    /** 200 SSE, {@code afterBlocks} blocks of {@code partial}, then an abrupt socket close. */
    record DropConnection(Reply partial, int afterBlocks, Duration latency) implements FakeTurn {
        @Override
        public DropConnection withLatency(Duration newLatency) {
            return new DropConnection(partial, afterBlocks, newLatency);
        }
    }
}
