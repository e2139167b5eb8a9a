package dev.agentfn.gateway;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.ApiKeys;
import dev.agentfn.LogText;
import dev.agentfn.MediaType;
import dev.agentfn.StrictJsonReader;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.AgentfnConfig.Gateway.Capture;
import dev.agentfn.config.AgentfnConfig.Gateway.Credentials;
import dev.agentfn.config.AgentfnConfig.Gateway.TurnEndWait;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.TraceLookup;
import dev.agentfn.tracing.Tracer;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The gateway's front door: Anthropic's Messages API paths on Vert.x routes, relayed to the upstream without a
 * thread per request (bodies and SSE events are handled on the event loop as bytes arrive), and traced through
 * {@link TurnTracer}. Plain Vert.x routes ahead of RESTEasy, so the API's JAX-RS filters and problem+json mappers
 * never see these requests: the gateway's own errors are in Anthropic's shape ({@link GatewayError}).
 */
@Singleton
public class GatewayRoutes {
    private static final Logger LOG = Logger.getLogger(GatewayRoutes.class);
    /** Ahead of RESTEasy's route and after the request limits check (order MIN_VALUE). */
    private static final int ORDER = -1000;
    /**
     * Idle turns closed at once. Each close is a read and a write to MLflow (tens of ms of MLflow's time); two at a
     * time close a few hundred turns well within one sweep interval without taking the CPU from live answers.
     */
    private static final int IDLE_CLOSE_LANES = 2;
    /** Traces the trace worker holds waiting before the relaying thread builds its own (see TurnTracer.traceWorker). */
    private static final int TRACES_WAITING = 1024;
    /** The paths served, as registered below and as {@link #serves} matches them. */
    private static final String MESSAGES = "/v1/messages";
    private static final String COUNT_TOKENS = "/v1/messages/count_tokens";
    private static final String MODELS = "/v1/models";
    /** Never forwarded either way: hop-by-hop headers, and what the relay sets itself. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "accept-encoding",
            "proxy-authorization", "proxy-authenticate");

    private final AgentfnConfig.Gateway config;
    private final String upstream;
    private final AnthropicClient.Endpoint endpoint;
    private final ApiKeys apiKeys;
    private final ObjectMapper json;
    private final TurnTracer tracer;
    private final ThreadPoolExecutor traceWork = TurnTracer.traceWorker(TRACES_WAITING);
    private final Duration exportTimeout;
    private final TurnCache cache;
    private final IdleTurnCloser<IdleTurn> idleTurns;
    private final StrictJsonReader reader;
    private final Vertx vertx;
    private HttpClient http;
    private HttpClient fresh;

    public GatewayRoutes(AgentfnConfig config, AnthropicClient.Endpoint endpoint, Tracer tracer, TraceDelivery delivery,
            TraceLookup lookup, Pricing pricing, ObjectMapper json, Vertx vertx) {
        this.config = config.gateway();
        String base = endpoint.baseUrl().toString();
        this.upstream = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.endpoint = endpoint;
        this.apiKeys = new ApiKeys(Secrets.apiKeys(config), config.auth().users());
        this.json = json;
        // Jackson's own nesting bound (1000); strings as long as the body may be (a base64 PDF is one string)
        this.reader = new StrictJsonReader(json, StreamReadConstraints.DEFAULT_MAX_DEPTH, "the gateway's fixed bound",
                (int) Math.min(Integer.MAX_VALUE, this.config.maxBodySize().asLongValue()));
        this.cache = new TurnCache(this.config.maxOpenTurns());
        this.tracer = new TurnTracer(tracer.withContent(this.config.captureContent() == Capture.FULL), delivery,
                lookup, pricing, json, cache, this.config.turnEndWait() == TurnEndWait.SPOOL, traceWork);
        this.exportTimeout = config.tracing().exportTimeout();
        this.idleTurns = new IdleTurnCloser<>(IDLE_CLOSE_LANES, t -> this.tracer.abandonIfStill(t.open(), t.before()),
                t -> LOG.warnf("closing idle turn failed: %s", LogText.escape(t.getMessage())));
        this.vertx = vertx;
    }

    void register(@Observes Router router) {
        if (!config.enabled()) {
            return;
        }
        http = vertx.createHttpClient(new HttpClientOptions().setName("agentfn-gateway")
                .setProtocolVersion(HttpVersion.HTTP_1_1).setMaxPoolSize(4096).setKeepAlive(true).setVerifyHost(true)
                .setTryUseCompression(false));
        // the one resend of a request whose pooled connection the upstream closed goes on a connection of its own:
        // another pooled one may be just as stale (an upstream that caps its idle connections closes many at once)
        fresh = vertx.createHttpClient(new HttpClientOptions().setName("agentfn-gateway-resend")
                .setProtocolVersion(HttpVersion.HTTP_1_1).setMaxPoolSize(4096).setKeepAlive(false).setVerifyHost(true)
                .setTryUseCompression(false));
        router.post(MESSAGES).order(ORDER).handler(ctx -> readBody(ctx, body -> messages(ctx, body)));
        router.post(COUNT_TOKENS).order(ORDER).handler(ctx -> readBody(ctx, body -> relay(ctx, body)));
        router.get(MODELS).order(ORDER).handler(ctx -> relay(ctx, null));
        router.get(MODELS + "/:id").order(ORDER).handler(ctx -> relay(ctx, null));
        long sweep = Math.max(1000, Math.min(30_000, config.turnIdleTimeout().toMillis() / 4));
        vertx.setPeriodic(sweep, id -> closeIdleTurns());
        LOG.infof("Gateway on /v1/messages, relaying to %s (credentials: %s, content: %s, turn end waits for: %s)",
                upstream, lower(config.credentials()), lower(config.captureContent()), lower(config.turnEndWait()));
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Whether the gateway's routes (registered above) serve this method and path. */
    static boolean serves(String method, String path) {
        if (path == null) {
            return false;
        }
        if (method.equals("POST")) {
            return path.equals(MESSAGES) || path.equals(COUNT_TOKENS);
        }
        int id = MODELS.length() + 1; // where the id of /v1/models/:id starts
        return method.equals("GET") && (path.equals(MODELS)
                || path.startsWith(MODELS + "/") && path.length() > id && path.indexOf('/', id) < 0);
    }

    /**
     * Before tracing stops (a lower priority runs first): the traces handed to the trace worker are built and their
     * exports started, so the wait for exports in flight covers them too.
     */
    void stop(@Observes @Priority(Interceptor.Priority.APPLICATION) ShutdownEvent event) {
        traceWork.shutdown();
        try {
            if (!traceWork.awaitTermination(exportTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warnf("%d gateway traces were still waiting to be built at shutdown; they are lost",
                        traceWork.getQueue().size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (http != null) {
            http.close();
            fresh.close();
        }
    }

    // ---- request ---------------------------------------------------------------------------------

    /** Reads the body up to the limit; past it answers 413 and stops reading (the connection is then closed). */
    private void readBody(RoutingContext ctx, Consumer<Buffer> then) {
        HttpServerRequest req = ctx.request();
        long limit = config.maxBodySize().asLongValue();
        String declared = req.getHeader("content-length");
        if (declared != null && parseLong(declared) > limit) {
            fail(ctx, GatewayError.tooLarge(limit), true);
            return;
        }
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        req.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > limit) {
                refused[0] = true;
                fail(ctx, GatewayError.tooLarge(limit), true);
                return;
            }
            body.appendBuffer(chunk);
        });
        req.endHandler(v -> {
            if (!refused[0]) {
                then.accept(body);
            }
        });
        req.resume();
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Read strictly, as the API reads its bodies: the bytes go upstream as they came while the trace records the
     * parsed document, so anything two readers could read differently (a second document, duplicate keys, invalid
     * UTF-8, a charset other than UTF-8) is refused before any upstream call.
     */
    private void messages(RoutingContext ctx, Buffer body) {
        JsonNode parsed;
        try {
            otherCharset(ctx.request().headers()).ifPresent(charset -> {
                throw new StrictJsonReader.Invalid("the Content-Type names charset '" + charset + "'; the body of "
                        + "POST /v1/messages is JSON in UTF-8 (send charset=utf-8 or none)");
            });
            parsed = reader.read(body.getBytes());
            if (!parsed.isObject()) {
                throw new StrictJsonReader.Invalid("the request body must be a JSON object, not " + kind(parsed));
            }
        } catch (StrictJsonReader.Invalid e) {
            fail(ctx, GatewayError.invalidRequest(e.getMessage()), false);
            return;
        }
        MultiMap h = ctx.request().headers();
        Exchange ex = new Exchange(parsed, h.get("x-claude-code-session-id"), h.get("x-claude-code-agent-id"),
                h.get("user-agent"), h.get("traceparent"), user(h, parsed), tracer.now());
        MultiMap headers = upstreamHeaders(ctx);
        if (headers == null) {
            return;
        }
        TurnTracer.Pending pending = tracer.begin(ex);
        new Relay(ctx, pending, tracer, json).start(http, fresh, options(ctx, headers), body);
    }

    /**
     * A charset other than UTF-8 named by any Content-Type header (or any entry of one), lower-cased; the type itself
     * is upstream's to judge. Read with the API's reader ({@link MediaType}); the parameters before a malformed
     * part count too, so {@code charset=latin1; =} is refused like {@code charset=latin1}.
     */
    static Optional<String> otherCharset(MultiMap headers) {
        return headers.getAll("content-type").stream().flatMap(value -> MediaType.parseAll(value).stream())
                .flatMap(type -> type.parameterValues("charset").stream())
                .map(charset -> charset.strip().toLowerCase(Locale.ROOT))
                .filter(charset -> !charset.isEmpty() && !charset.equals("utf-8") && !charset.equals("utf8")).findFirst()
                .map(charset -> LogText.escape(charset.length() > 40 ? charset.substring(0, 40) + "…" : charset));
    }

    private static String kind(JsonNode n) {
        return n.isArray() ? "an array" : n.isNull() ? "null" : n.isTextual() ? "a string" : n.isNumber() ? "a number"
                : n.isBoolean() ? "a boolean" : n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    private void relay(RoutingContext ctx, Buffer body) {
        MultiMap headers = upstreamHeaders(ctx);
        if (headers == null) {
            return;
        }
        new Relay(ctx, null, tracer, json).start(http, fresh, options(ctx, headers), body);
    }

    private RequestOptions options(RoutingContext ctx, MultiMap headers) {
        String query = ctx.request().query();
        return new RequestOptions().setMethod(ctx.request().method()).setHeaders(headers)
                .setAbsoluteURI(upstream + ctx.request().path() + (query == null ? "" : "?" + query));
    }

    /** What goes upstream: the caller's headers as they came, credentials as the mode says; null once refused. */
    private MultiMap upstreamHeaders(RoutingContext ctx) {
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        ctx.request().headers().forEach(e -> {
            if (!HOP_BY_HOP.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                out.add(e.getKey(), e.getValue());
            }
        });
        if (config.credentials() != Credentials.MANAGED) {
            return out;
        }
        String presented = presentedKey(ctx.request().headers());
        if (apiKeys.isEmpty() || presented == null || !apiKeys.matches(presented)) {
            fail(ctx, GatewayError.unauthenticated(apiKeys.isEmpty()
                    ? "the gateway manages credentials but no agentfn API key is configured (agentfn.auth.api-keys)"
                    : presented == null ? "send an agentfn API key as x-api-key or Authorization: Bearer"
                    : "the API key is not valid"), false);
            return null;
        }
        out.remove("x-api-key");
        out.remove("authorization");
        endpoint.apiKey().ifPresent(k -> out.set("x-api-key", k));
        endpoint.authToken().ifPresent(t -> out.set("authorization", "Bearer " + t));
        return out;
    }

    private static String presentedKey(MultiMap h) {
        String auth = h.get("authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).strip();
        }
        return h.get("x-api-key");
    }

    /**
     * In managed mode the user a named agentfn key belongs to ({@code agentfn.auth.users}); else the configured header,
     * else {@code metadata.user_id} when it is plain text (Claude Code's is a JSON blob of ids). Never a credential.
     */
    private String user(MultiMap h, JsonNode body) {
        if (config.credentials() == Credentials.MANAGED) {
            String presented = presentedKey(h);
            Optional<String> owner = presented == null ? Optional.empty() : apiKeys.owner(presented);
            if (owner.isPresent()) {
                return owner.get();
            }
        }
        String header = h.get(config.userHeader());
        if (header != null && !header.isBlank()) {
            return header;
        }
        String id = body.path("metadata").path("user_id").asText(null);
        return id == null || id.isBlank() || id.strip().startsWith("{") ? null : id;
    }

    static void fail(RoutingContext ctx, GatewayError e, boolean closeConnection) {
        HttpServerResponse r = ctx.response();
        if (r.headWritten()) {
            return;
        }
        r.setStatusCode(e.status()).putHeader("content-type", "application/json");
        if (closeConnection) {
            r.putHeader("connection", "close");
        }
        r.end(e.body());
    }

    // ---- idle turns ------------------------------------------------------------------------------

    private void closeIdleTurns() {
        long before = tracer.now() - config.turnIdleTimeout().toNanos();
        int found = idleTurns.sweepAndClose(() -> cache.sweep(before).stream().map(o -> new IdleTurn(o, before)).toList());
        if (found > 0) {
            LOG.infof("closing %d idle turn(s), %d at a time: no request continued them within"
                    + " agentfn.gateway.turn-idle-timeout", found, IDLE_CLOSE_LANES);
        }
    }

    /** An open turn a sweep found idle since before {@code before} (nanoseconds on the tracer's clock). */
    private record IdleTurn(TurnCache.Open open, long before) {
    }

    static boolean hopByHop(String name) {
        return HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT));
    }
}
