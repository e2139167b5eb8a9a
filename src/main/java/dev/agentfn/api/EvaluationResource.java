package dev.agentfn.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.evaluation.EvaluationConflictException;
import dev.agentfn.evaluation.DatasetUnavailableException;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.EvaluationRun;
import dev.agentfn.evaluation.EvaluationPlan;
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
    private final StrictJson reader;

    public EvaluationResource(Evaluations evaluations, StrictJson reader) {
        this.evaluations = evaluations;
        this.reader = reader;
    }

    @POST
    @Blocking // reads the dataset file and validates every row: not for the event loop
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Start an evaluation", description = "Checks the dataset and scorers, creates the MLflow "
            + "run and answers 202; rows run in the background. Bad input is a problem+json 400.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = EvaluationRequest.class)))
    @APIResponse(responseCode = "202", description = "Started; rows run in the background",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = EvaluationStarted.class)))
    @APIResponse(responseCode = "200", description = "Finished (\"wait\": true)", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = EvaluationStatus.class)))
    @APIResponse(responseCode = "400", description = "Invalid dataset, scorer or template",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "default", description = "Any other error (401, 409, 413, 414, 415, 431, 502, 503)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> start(byte[] body) {
        JsonNode tree = reader.read(body); // malformed input is a 400 whether or not MLflow is configured
        if (!evaluations.available()) {
            throw new ProblemException(Problem.of(503, "evaluations-unavailable", "Evaluations unavailable",
                    "evaluations record into MLflow; set MLFLOW_TRACKING_URI (agentfn.mlflow.tracking-uri)"));
        }
        EvaluationPlan plan;
        boolean wait;
        try {
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
        Throwable cause = dev.agentfn.Futures.unwrap(t);
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
    @APIResponse(responseCode = "200", description = "The evaluation's status", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = EvaluationStatus.class)))
    @APIResponse(responseCode = "default", description = "No such evaluation (404), or another error",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public EvaluationStatus get(@PathParam("id") String id) {
        return evaluations.get(id).map(EvaluationStatus::of).orElseThrow(() -> new ProblemException(
                Problem.of(404, "not-found", "Not found", "no evaluation " + id + " (finished ones are kept only "
                        + "for a while, in this instance's memory)")));
    }
}
