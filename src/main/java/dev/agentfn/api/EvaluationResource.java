package dev.agentfn.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.evaluation.EvaluationConflictException;
import dev.agentfn.evaluation.DatasetUnavailableException;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.EvaluationRun;
import dev.agentfn.evaluation.EvaluationPlan;
import dev.agentfn.evaluation.JsonErrors;
import dev.agentfn.evaluation.Evaluations;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code POST /v1/evaluations} starts a batch evaluation; {@code GET /v1/evaluations/{id}} reports on it. */
@Tag(name = "Evaluation Resource") // the tag Quarkus' OpenAPI extension gave every operation
@Path("/v1/evaluations")
public class EvaluationResource {
    private final Evaluations evaluations;
    private final ObjectMapper json;

    public EvaluationResource(Evaluations evaluations, ObjectMapper json) {
        this.evaluations = evaluations;
        this.json = json;
    }

    @POST
    @Blocking // reads the dataset file and validates every row: not for the event loop
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Start an evaluation", description = "Checks the dataset and scorers, creates the MLflow "
            + "run and answers 202; rows run in the background. Bad input is a problem+json 400.")
    @RequestBody(content = @Content(schema = @Schema(implementation = EvaluationRequest.class)))
    @APIResponse(responseCode = "202", content = @Content(schema = @Schema(implementation = EvaluationStarted.class)))
    @APIResponse(responseCode = "400", description = "Invalid dataset, scorer or template",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> start(byte[] body) {
        if (!evaluations.available()) {
            throw new ProblemException(Problem.of(503, "evaluations-unavailable", "Evaluations unavailable",
                    "evaluations record into MLflow; set MLFLOW_TRACKING_URI (agentfn.mlflow.tracking-uri)"));
        }
        EvaluationPlan plan;
        boolean wait;
        try {
            JsonNode tree = read(body);
            plan = evaluations.plan(tree);
            wait = tree.path("wait").asBoolean(false);
        } catch (EvaluationException e) {
            throw ProblemException.badRequest(e.getMessage());
        } catch (DatasetUnavailableException e) {
            throw new ProblemException(Problem.of(502, "mlflow-unavailable", "MLflow unavailable", e.getMessage()));
        }
        if (wait) {
            // For triggers that must not return before the work is done (a Lambda instance is frozen after it answers).
            return evaluations.start(plan).thenCompose(EvaluationRun::settled)
                    .thenApply(run -> Response.ok(EvaluationStatus.of(run)).type(MediaType.APPLICATION_JSON).build())
                    .exceptionally(EvaluationResource::startFailed);
        }
        return evaluations.start(plan)
                .thenApply(run -> Response.accepted(new EvaluationStarted(run.id(), run.runId(), run.experimentId(),
                        run.status().name(), run.totalRows(), run.resumedRows())).type(MediaType.APPLICATION_JSON)
                        .build())
                .exceptionally(EvaluationResource::startFailed);
    }

    private static Response startFailed(Throwable t) {
        Throwable cause = InvocationService.unwrap(t);
        if (cause instanceof EvaluationConflictException c) {
            return ProblemMappers.response(Problem.of(409, "evaluation-in-progress", "Evaluation in progress",
                    c.getMessage()), java.util.Map.of());
        }
        if (cause instanceof EvaluationException e) {
            return ProblemMappers.response(Problem.of(400, "invalid-request", "Invalid request", e.getMessage()),
                    java.util.Map.of());
        }
        return ProblemMappers.response(Problem.of(502, "mlflow-unavailable", "MLflow unavailable",
                "could not create the evaluation run: " + cause.getMessage()), java.util.Map.of());
    }

    @GET
    @Path("/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Progress and results of an evaluation")
    public EvaluationStatus get(@PathParam("id") String id) {
        return evaluations.get(id).map(EvaluationStatus::of).orElseThrow(() -> new ProblemException(
                Problem.of(404, "not-found", "Not found", "no evaluation " + id + " (finished ones are kept only "
                        + "for a while, in this instance's memory)")));
    }

    private JsonNode read(byte[] body) {
        if (body == null || body.length == 0) {
            throw new EvaluationException("the request body is empty");
        }
        try {
            return json.readTree(body);
        } catch (JsonParseException e) {
            throw new EvaluationException("malformed JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + JsonErrors.reason(e));
        } catch (IOException e) {
            throw new EvaluationException("malformed JSON: " + e.getMessage());
        }
    }
}
