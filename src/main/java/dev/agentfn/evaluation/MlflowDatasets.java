package dev.agentfn.evaluation;

import dev.agentfn.mlflow.MlflowApi.DatasetRecord;
import dev.agentfn.mlflow.MlflowApi.DatasetRecordPage;
import dev.agentfn.mlflow.MlflowApi.EvaluationDataset;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Loads an MLflow evaluation dataset ({@code mlflow.genai.datasets.create_dataset}) by id or name, reading
 * its records page by page, as the rows of an evaluation.
 */
public final class MlflowDatasets {
    /** MLflow's dataset ids: {@code d-} and 32 hex digits ({@code EvaluationDatasetSource._can_resolve}). */
    private static final Pattern ID = Pattern.compile("d-[0-9a-f]{32}");

    private final MlflowTracking mlflow;
    private final Datasets datasets;
    private final int pageSize;
    private final int maxRows;
    private final Duration timeout;

    /** @param timeout for each MLflow call */
    public MlflowDatasets(MlflowTracking mlflow, Datasets datasets, int pageSize, int maxRows, Duration timeout) {
        this.mlflow = mlflow;
        this.datasets = datasets;
        this.pageSize = pageSize;
        this.maxRows = maxRows;
        this.timeout = timeout;
    }

    /** @param mapping how records whose inputs are not an invocation request find their prompt */
    public Dataset load(String nameOrId, PromptMapping mapping) {
        EvaluationDataset ds = find(nameOrId);
        List<Datasets.Record> records = new ArrayList<>();
        String token = null;
        do {
            DatasetRecordPage page = await(mlflow.getDatasetRecords(ds.datasetId(), pageSize, token),
                    "reading the records of MLflow dataset " + ds.name());
            for (DatasetRecord r : page.records()) {
                if (records.size() >= maxRows) {
                    throw new EvaluationException("MLflow dataset " + ds.name() + " has more than " + maxRows
                            + " records (agentfn.evaluation.max-rows)");
                }
                records.add(new Datasets.Record("MLflow dataset " + ds.name() + " record " + r.recordId(),
                        r.inputs(), r.expectations()));
            }
            token = page.nextPageToken();
        } while (token != null);
        String source = "mlflow_dataset:" + ds.name();
        String digest = ds.digest() == null || ds.digest().isEmpty() ? null : ds.digest();
        Dataset.Origin origin = new Dataset.Origin(ds.name(), MlflowKeys.DatasetSource.EVALUATION_DATASET,
                "{\"dataset_id\": \"" + ds.datasetId() + "\"}", ds.datasetId(), digest);
        return datasets.records(records, mapping, source, origin);
    }

    private EvaluationDataset find(String nameOrId) {
        if (ID.matcher(nameOrId).matches()) {
            return await(mlflow.getEvaluationDataset(nameOrId), "reading MLflow dataset " + nameOrId)
                    .orElseThrow(() -> new EvaluationException("MLflow has no evaluation dataset with id " + nameOrId));
        }
        List<EvaluationDataset> found = await(mlflow.searchEvaluationDatasets(nameOrId, 2),
                "searching MLflow datasets").datasets().stream().filter(d -> d.name().equals(nameOrId)).toList();
        if (found.isEmpty()) {
            throw new EvaluationException("MLflow has no evaluation dataset named '" + nameOrId + "'");
        }
        if (found.size() > 1) {
            throw new EvaluationException("more than one MLflow evaluation dataset is named '" + nameOrId
                    + "'; give its id (" + found.get(0).datasetId() + ", " + found.get(1).datasetId() + ")");
        }
        return found.get(0);
    }

    private <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new DatasetUnavailableException(what + " timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetUnavailableException(what + " was interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof EvaluationException bad) {
                throw bad;
            }
            throw new DatasetUnavailableException(what + " failed: " + e.getCause().getMessage());
        }
    }
}
