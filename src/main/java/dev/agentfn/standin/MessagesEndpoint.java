package dev.agentfn.standin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** {@code POST /v1/messages}: validate, pop a turn, wait its latency, then play it. */
final class MessagesEndpoint {
    private final FakeAnthropicServer server;

    MessagesEndpoint(FakeAnthropicServer server) {
        this.server = server;
    }

    /** @return {@code false} when the turn is played later by a timer, which then closes the exchange */
    boolean messages(HttpExchange ex, RecordedRequest req) throws IOException {
        FakeTurn.HttpError invalid = RequestValidator.check(req, true);
        if (invalid != null) {
            // Rejected before the "model" runs, so no scripted turn is consumed.
            Exchanges.sendError(ex, invalid);
            return true;
        }
        FakeTurn turn = server.nextTurn(req.json());
        Duration latency = turn.latency();
        if (latency == null) {
            latency = server.latencyFor(req.json().path("model").asText(null));
            Duration jitter = server.drawJitter();
            if (jitter != null) {
                latency = latency.plus(jitter);
                ex.getResponseHeaders().set(FakeAnthropicServer.JITTER_HEADER, Long.toString(jitter.toMillis()));
            }
        }
        boolean stream = req.json().path("stream").asBoolean(false);
        if (latency.isZero() || latency.isNegative() || turn instanceof FakeTurn.DropConnection) {
            // a drop must reach the JDK server as an exception on its own thread to reset the socket
            sleep(latency);
            play(ex, turn, req, stream);
            return true;
        }
        server.later(latency, () -> playLater(ex, turn, req, stream));
        return false;
    }

    private void playLater(HttpExchange ex, FakeTurn turn, RecordedRequest req, boolean stream) {
        try {
            play(ex, turn, req, stream);
        } catch (IOException e) {
            // the client is gone: nobody to answer
        } catch (RuntimeException e) {
            try {
                Router.internalError(ex, e);
            } catch (IOException | RuntimeException ignored) {
                // the answer had started: closing below ends it early, as a failing stream would
            }
        } finally {
            ex.close();
        }
    }

    /** {@code POST /v1/messages/count_tokens}, answered with the same estimate as usage. */
    void countTokens(HttpExchange ex, RecordedRequest req) throws IOException {
        FakeTurn.HttpError invalid = RequestValidator.check(req, false);
        if (invalid != null) {
            Exchanges.sendError(ex, invalid);
            return;
        }
        ObjectNode body = MessageJson.MAPPER.createObjectNode();
        body.put("input_tokens", FakeUsage.estimate(req.body().length(), 0).inputTokens());
        Exchanges.sendJson(ex, 200, body);
    }

    private void play(HttpExchange ex, FakeTurn turn, RecordedRequest req, boolean stream) throws IOException {
        if (turn instanceof FakeTurn.HttpError error) {
            Exchanges.sendError(ex, error);
        } else if (turn instanceof FakeTurn.Reply reply) {
            playReply(ex, reply, req, stream);
        } else if (turn instanceof FakeTurn.MidStreamError failure) {
            playMidStreamError(ex, failure, req, stream);
        } else if (turn instanceof FakeTurn.DropConnection drop) {
            if (stream) {
                streamBlocks(ex, drop.partial(), req, drop.afterBlocks());
                ex.getResponseBody().flush();
                // the abort may reset the socket, and a reset discards what the client has not read yet:
                // give it a moment to read the partial stream it is meant to see
                sleep(Duration.ofMillis(100));
            }
            throw new AbortConnection("scripted dropConnection");
        }
    }

    private void playReply(HttpExchange ex, FakeTurn.Reply reply, RecordedRequest req, boolean stream)
            throws IOException {
        String model = req.json().get("model").asText();
        if (!stream) {
            Exchanges.sendJson(ex, 200, MessageJson.message(Ids.message(), model, reply, usage(reply, req)));
            return;
        }
        SseStream sse = streamBlocks(ex, reply, req, reply.content().size());
        sse.messageEnd(reply.stopReason(), reply.stopSequence(), usage(reply, req));
    }

    private void playMidStreamError(HttpExchange ex, FakeTurn.MidStreamError failure, RecordedRequest req,
                                    boolean stream) throws IOException {
        if (!stream) {
            // A JSON request can only fail with a status; use the one that matches the type.
            Exchanges.sendError(ex, ApiErrors.statusFor(failure.type()), failure.type(), failure.message());
            return;
        }
        streamBlocks(ex, failure.partial(), req, failure.afterBlocks()).error(failure.type(), failure.message());
    }

    /** 200 headers, message_start, then the first {@code count} blocks (ping after the first start). */
    private SseStream streamBlocks(HttpExchange ex, FakeTurn.Reply reply, RecordedRequest req, int count)
            throws IOException {
        SseStream sse = Exchanges.startSse(ex);
        sse.messageStart(MessageJson.startMessage(Ids.message(), req.json().get("model").asText(), usage(reply, req)));
        int blocks = Math.min(count, reply.content().size());
        if (blocks == 0) {
            sse.ping();
        }
        for (int i = 0; i < blocks; i++) {
            sse.block(i, reply.content().get(i), i == 0);
        }
        return sse;
    }

    private static FakeUsage usage(FakeTurn.Reply reply, RecordedRequest req) {
        return reply.usage() != null ? reply.usage()
                : FakeUsage.estimate(req.body().length(), MessageJson.outputChars(reply.content()));
    }

    /** Runs on the request's own pool thread and holds no lock, so latencies overlap freely. */
    private static void sleep(Duration latency) {
        if (latency == null || latency.isZero() || latency.isNegative()) {
            return;
        }
        try {
            TimeUnit.NANOSECONDS.sleep(latency.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AbortConnection("interrupted while simulating latency (server closing)");
        }
    }
}
