package dev.agentfn.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Serves the OpenAPI document at {@code /q/openapi} the way Quarkus' OpenAPI extension did: YAML by default;
 * JSON for {@code /q/openapi.json}, {@code ?format=json} or {@code Accept: application/json}; YAML for
 * {@code .yaml}/{@code .yml}. The document is written at build time from the resources' annotations by
 * smallrye-open-api-maven-plugin (pom.xml) into {@value #DIRECTORY}. The extension re-read, filtered and
 * rendered its build-time document on every start (a fifth of the JVM's start-up work); here nothing
 * happens until the first request, which reads the finished bytes.
 */
@Singleton
public final class OpenApiRoute {
    static final String PATH = "/q/openapi";
    static final String DIRECTORY = "META-INF/agentfn-openapi/";
    private static final Logger LOG = Logger.getLogger(OpenApiRoute.class);

    private enum Format {
        JSON("openapi.json", "application/json;charset=UTF-8"),
        YAML("openapi.yaml", "application/yaml;charset=UTF-8");

        final String file;
        final String contentType;
        /** The document's bytes, read once on first use ({@code null} until then). */
        volatile Buffer body;

        Format(String file, String contentType) {
            this.file = file;
            this.contentType = contentType;
        }
    }

    void register(@Observes Router router) {
        for (String suffix : List.of("", ".json", ".yaml", ".yml")) {
            router.route(PATH + suffix).handler(this::serve);
        }
    }

    private void serve(RoutingContext ctx) {
        if (ctx.request().method() == HttpMethod.OPTIONS) {
            ctx.response().headers().set("Allow", "GET, HEAD, OPTIONS");
            ctx.next();
            return;
        }
        Format format = format(ctx);
        Buffer body = body(format);
        if (body == null) {
            ctx.next(); // a build without the generated document: 404
            return;
        }
        ctx.response().putHeader("Content-Type", format.contentType).end(body);
    }

    private static Format format(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (path.endsWith(".json")) {
            return Format.JSON;
        }
        if (path.endsWith(".yaml") || path.endsWith(".yml")) {
            return Format.YAML;
        }
        String accept = ctx.request().getHeader("Accept");
        List<String> param = ctx.queryParam("format");
        boolean json = (accept != null && accept.contains("application/json"))
                || (!param.isEmpty() && "json".equalsIgnoreCase(param.get(0)));
        return json ? Format.JSON : Format.YAML;
    }

    /** The JSON document's bytes, or null in a build without it. */
    static byte[] jsonDocument() {
        Buffer body = body(Format.JSON);
        return body == null ? null : body.getBytes();
    }

    private static Buffer body(Format format) {
        Buffer body = format.body;
        if (body == null) {
            body = read(DIRECTORY + format.file);
            format.body = body; // racing first requests read the same bytes twice, harmlessly
        }
        return body;
    }

    private static Buffer read(String resource) {
        try (InputStream in = OpenApiRoute.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                LOG.warnf("%s is not on the class path: build with Maven (smallrye-open-api-maven-plugin)", resource);
                return null;
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(resource, e);
        }
    }
}
