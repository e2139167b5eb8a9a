package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.messages.MessageAccumulator;
import dev.agentfn.conversation.messages.wire.Message;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import org.jboss.logging.Logger;

/**
 * One relayed request, on the event loop of the caller's connection: upstream's status, headers and body go back
 * as they arrive. An SSE answer is cut into events ({@link SseSplitter}) and each event forwarded as it completes;
 * the events also build the answer for the trace. The answer that ends a turn holds back its {@code message_stop}
 * (and anything after it) until the turn's trace is delivered or spooled; other answers are not held. A JSON
 * answer (small: one message) is read whole and sent on the same terms. The caller hanging up resets the upstream
 * request and closes the trace.
 */
final class Relay {
    private static final Logger LOG = Logger.getLogger(Relay.class);

    private final RoutingContext ctx;
    private final HttpServerResponse out;
    /** Null for requests that are relayed without tracing (count_tokens, models). */
    private final TurnTracer.Pending pending;
    private final TurnTracer tracer;
    private final ObjectMapper json;
    private final Context context;
    private HttpClientRequest upstreamRequest;
    private MessageAccumulator accumulator;
    private boolean streamBroken;
    private String streamErrorType;
    private String streamErrorMessage;
    private Buffer held;
    /** Events of the current upstream chunk, written together once it is split ({@link #flushEvents}). */
    private Buffer pendingEvents;
    private boolean finished;

    Relay(RoutingContext ctx, TurnTracer.Pending pending, TurnTracer tracer, ObjectMapper json) {
        this.ctx = ctx;
        this.out = ctx.response();
        this.pending = pending;
        this.tracer = tracer;
        this.json = json;
        this.context = Vertx.currentContext();
    }

    /** @param fresh a client without keep-alive, for the one resend: it always opens a connection of its own */
    void start(HttpClient http, HttpClient fresh, RequestOptions options, Buffer body) {
        out.closeHandler(v -> clientGone());
        send(http, options, body).recover(t -> staleConnection(t) && !finished ? send(fresh, options, body)
                : io.vertx.core.Future.failedFuture(t)).onSuccess(this::relay).onFailure(this::unreachable);
    }

    private io.vertx.core.Future<HttpClientResponse> send(HttpClient http, RequestOptions options, Buffer body) {
        return http.request(options).compose(req -> {
            upstreamRequest = req;
            return body == null ? req.send() : req.send(body);
        });
    }

    /**
     * The upstream closed the pooled connection before any answer (an idle keep-alive connection it was dropping as
     * the request went out): closed, or reset because our request reached a socket it had already closed (a server
     * trimming its idle connections under load, as the JDK's HTTP server does past 200). Sent once more on a new
     * connection, as HTTP clients resend on a stale connection; this is transport, not a retry of an answer: an
     * upstream error answer is always relayed as it came, and a failure after the answer began is never resent.
     */
    static boolean staleConnection(Throwable t) {
        return t instanceof io.vertx.core.http.HttpClosedException
                || t instanceof java.io.IOException && String.valueOf(t.getMessage()).contains("Connection reset");
    }

    private void unreachable(Throwable t) {
        if (finished) {
            return;
        }
        LOG.warnf("gateway: upstream unreachable: %s", t.getClass().getSimpleName());
        GatewayError e = GatewayError.upstreamUnreachable();
        trace(new Answer(0, null, Usage.ZERO, null, null, "upstream_unreachable", e.message(), tracer.now()))
                .whenComplete((s, x) -> onContext(() -> {
                    finished = true;
                    GatewayRoutes.fail(ctx, e, false);
                }));
    }

    private void relay(HttpClientResponse resp) {
        if (finished) {
            return;
        }
        out.setStatusCode(resp.statusCode());
        if (resp.statusMessage() != null) {
            out.setStatusMessage(resp.statusMessage());
        }
        resp.headers().forEach(e -> {
            if (!GatewayRoutes.hopByHop(e.getKey())) {
                out.headers().add(e.getKey(), e.getValue());
            }
        });
        String type = resp.getHeader("content-type");
        boolean sse = type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("text/event-stream");
        resp.exceptionHandler(t -> {
            streamBroken = true;
            streamErrorMessage = "the upstream stream broke: " + t.getClass().getSimpleName();
        });
        if (sse && pending != null) {
            stream(resp);
        } else if (pending != null) {
            resp.body().onSuccess(b -> whole(resp, b)).onFailure(this::unreachable);
        } else {
            out.setChunked(true);
            resp.pipeTo(out);
        }
    }

    /** SSE: forward each event as it completes, feed it to the accumulator, hold the turn's last events. */
    private void stream(HttpClientResponse resp) {
        out.setChunked(true);
        accumulator = new MessageAccumulator(json, text -> { });
        SseSplitter splitter = new SseSplitter(this::event);
        resp.handler(chunk -> {
            splitter.feed(chunk);
            flushEvents();
            if (out.writeQueueFull()) {
                resp.pause();
                out.drainHandler(v -> resp.resume());
            }
        });
        resp.endHandler(v -> {
            splitter.end();
            flushEvents();
            streamEnded(resp);
        });
    }

    /**
     * Writes the events one upstream chunk completed as one write, at once: the client gets them as soon as upstream
     * sent them, in one flush instead of one per event (a chunk often carries several small delta events).
     */
    private void flushEvents() {
        if (pendingEvents != null && !finished) {
            out.write(pendingEvents);
        }
        pendingEvents = null;
    }

    private void event(Buffer raw) {
        if (finished) {
            return;
        }
        SseSplitter.Parsed e = SseSplitter.Parsed.of(raw);
        boolean stop = false;
        if (e.data() != null && !streamBroken) {
            try {
                accumulator.apply(e.event(), e.data());
                stop = "message_stop".equals(e.event());
            } catch (MessageAccumulator.StreamErrorEvent err) {
                streamErrorType = errorType(e.data());
                streamErrorMessage = err.getMessage();
            } catch (RuntimeException malformed) {
                // the relay goes on byte for byte; only the trace loses this answer's content
                streamBroken = true;
                streamErrorMessage = "the upstream stream could not be read: " + malformed.getMessage();
            }
        }
        if (held == null && stop && holdsLastEvents()) {
            held = Buffer.buffer();
        }
        if (held != null) {
            held.appendBuffer(raw);
        } else if (pendingEvents == null) {
            pendingEvents = raw; // the splitter hands out a buffer of its own
        } else {
            pendingEvents.appendBuffer(raw);
        }
    }

    private String errorType(String data) {
        try {
            return json.readTree(data).path("error").path("type").asText("api_error");
        } catch (Exception e) {
            return "api_error";
        }
    }

    /** Whether this answer ends its turn: then its last events wait for the trace. */
    private boolean holdsLastEvents() {
        return pending.traced() && accumulator.complete() && pending.endsTurn(accumulator.result().stopReason());
    }

    private void streamEnded(HttpClientResponse resp) {
        if (finished) {
            return;
        }
        Answer answer = streamAnswer(resp);
        if (held == null) {
            finished = true;
            trace(answer); // records the call in the turn's state before the client can send the turn's next request
            out.end();
            return;
        }
        trace(answer).whenComplete((s, t) -> onContext(() -> {
            finished = true;
            out.end(held);
        }));
    }

    private Answer streamAnswer(HttpClientResponse resp) {
        String requestId = resp.getHeader("request-id");
        long end = tracer.now();
        if (accumulator.complete() && streamErrorType == null && !streamBroken) {
            Message m = accumulator.result();
            return new Answer(resp.statusCode(), m.toJson(), m.usage(), m.stopReason(), requestId, null, null, end);
        }
        String type = streamErrorType != null ? streamErrorType : "stream_incomplete";
        String message = streamErrorMessage != null ? streamErrorMessage : "the stream ended before message_stop";
        return new Answer(resp.statusCode(), null, Usage.ZERO, null, requestId, type, message, end);
    }

    /** JSON answers, and every error status: one message, read whole, then sent (after the trace if it ends a turn). */
    private void whole(HttpClientResponse resp, Buffer body) {
        if (finished) {
            return;
        }
        Answer answer = jsonAnswer(resp, body);
        boolean holds = pending.traced() && answer.ok() && pending.endsTurn(answer.stopReason());
        if (!holds) {
            finished = true;
            trace(answer); // as above: the call is recorded first, the trace is built on the trace worker
            out.end(body);
            return;
        }
        trace(answer).whenComplete((s, t) -> onContext(() -> {
            finished = true;
            out.end(body);
        }));
    }

    private Answer jsonAnswer(HttpClientResponse resp, Buffer body) {
        String requestId = resp.getHeader("request-id");
        long end = tracer.now();
        JsonNode node;
        try {
            node = json.readTree(body.getBytes());
        } catch (Exception e) {
            node = null;
        }
        if (resp.statusCode() >= 400 || node == null || "error".equals(node.path("type").asText())) {
            String type = node == null ? "api_error" : node.path("error").path("type").asText("api_error");
            String message = node == null ? "HTTP " + resp.statusCode() : node.path("error").path("message").asText("");
            return new Answer(resp.statusCode(), node, Usage.ZERO, null, requestId, type, message, end);
        }
        return new Answer(resp.statusCode(), node, Usage.fromJson(node.path("usage")), node.path("stop_reason").asText(null),
                requestId, null, null, end);
    }

    /** The caller hung up: stop the upstream call and close the trace with what is known. */
    private void clientGone() {
        if (finished) {
            return;
        }
        finished = true;
        if (upstreamRequest != null) {
            upstreamRequest.reset();
        }
        trace(new Answer(0, null, Usage.ZERO, null, null, "client_disconnected",
                "the client left before the answer ended", tracer.now()));
    }

    private java.util.concurrent.CompletableFuture<dev.agentfn.tracing.export.ExportStatus> trace(Answer a) {
        if (pending == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(dev.agentfn.tracing.export.ExportStatus.DISABLED);
        }
        return tracer.end(pending, a).exceptionally(t -> {
            LOG.errorf("gateway trace failed: %s", t.getClass().getSimpleName());
            return dev.agentfn.tracing.export.ExportStatus.FAILED;
        });
    }

    private void onContext(Runnable r) {
        if (context == null) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }
}
