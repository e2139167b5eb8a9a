package dev.agentfn.api;

import dev.agentfn.LogText;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves as problem+json; nothing else ever reaches a client, stack traces least of all. */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    public static Response response(Problem problem, java.util.Map<String, String> headers) {
        Response.ResponseBuilder b = Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem);
        headers.forEach(b::header);
        if (problem.traceId() != null) {
            b.header("X-Trace-Id", problem.traceId());
        }
        return b.build();
    }

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        return response(e.problem(), e.headers());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        String title = Response.Status.fromStatusCode(status) == null ? "Error"
                : Response.Status.fromStatusCode(status).getReasonPhrase();
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 406 -> "this resource answers application/json or text/event-stream";
            case 415 -> "send the request body as application/json";
            default -> title;
        };
        if (status >= 500) {
            LOG.error("Request failed", LogText.escape(e));
        }
        java.util.Map<String, String> headers = status == 405
                ? AllowedMethods.allow(uri.getPath()).map(a -> java.util.Map.of("Allow", a)).orElse(java.util.Map.of())
                : java.util.Map.of();
        return response(Problem.of(status, kind(status), title, detail), headers);
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.error("Unexpected failure", LogText.escape(e));
        return response(Problem.of(500, "internal", "Internal error",
                "agentfn failed unexpectedly; the server log has details"), java.util.Map.of());
    }

    private static String kind(int status) {
        return switch (status) {
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 415 -> "unsupported-media-type";
            default -> "http-" + status;
        };
    }
}
