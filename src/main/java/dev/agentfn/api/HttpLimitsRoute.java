package dev.agentfn.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.EarlyRefusal;
import dev.agentfn.config.AgentfnConfig;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;

/**
 * 414 and 431 as problem documents. Vert.x's HTTP codec answers an over-long request line or header block
 * itself, with an empty body, and Quarkus exposes no hook to replace that ({@code HttpServer#invalidRequestHandler}
 * is not reachable; {@code HttpServerOptionsCustomizer} sees only the options). So the codec's limits are raised
 * to ceilings (application.properties) and the documented limits ({@code agentfn.http.*}) are checked here,
 * first of all routes; only a request past the ceilings still gets the codec's bare answer. A path another front
 * door serves (the gateway) is refused in that door's shape ({@link EarlyRefusal}).
 */
@Singleton
public class HttpLimitsRoute {
    private final int maxUri;
    private final long maxHeaders;
    private final ObjectMapper json;
    private final List<EarlyRefusal> otherDoors;

    public HttpLimitsRoute(AgentfnConfig config, ObjectMapper json, Instance<EarlyRefusal> otherDoors) {
        this.maxUri = config.http().maxUriLength();
        this.maxHeaders = config.http().maxHeaderSize().asLongValue();
        this.json = json;
        this.otherDoors = otherDoors.stream().toList();
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(this::check);
    }

    private void check(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        int uri = request.uri().length();
        if (uri > maxUri) {
            refuse(ctx, Problem.of(414, "uri-too-long", "URI Too Long", "the request URI has " + uri
                    + " characters; the limit is " + maxUri + " (agentfn.http.max-uri-length)"));
            return;
        }
        long headers = headerBytes(request);
        if (headers > maxHeaders) {
            refuse(ctx, Problem.of(431, "headers-too-large", "Request Header Fields Too Large", "the request headers "
                    + "have " + headers + " characters; the limit is " + maxHeaders + " (agentfn.http.max-header-size)"));
            return;
        }
        ctx.next();
    }

    /** Names, values and the ": " and CRLF around them, as they came on the wire. */
    private static long headerBytes(HttpServerRequest request) {
        long n = 0;
        for (Map.Entry<String, String> h : request.headers()) {
            n += h.getKey().length() + h.getValue().length() + 4;
        }
        return n;
    }

    private void refuse(RoutingContext ctx, Problem problem) {
        for (EarlyRefusal door : otherDoors) {
            if (door.serves(ctx.request())) {
                door.refuse(ctx, problem.status(), problem.detail());
                return;
            }
        }
        ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", Problem.MEDIA_TYPE)
                // the body is not read: the connection cannot be reused safely
                .putHeader("Connection", "close").end(json.valueToTree(problem).toString());
    }
}
