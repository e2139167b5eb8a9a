package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.export.MlflowTraceExporter;
import dev.agentfn.tracing.export.TraceExporter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires evaluations from the shared Anthropic client, the MLflow exporter's client and the agent. */
@Singleton
public class EvaluationBeans {

    @Produces
    @Singleton
    Evaluations evaluations(AgentfnConfig config, ObjectMapper json, AnthropicClient anthropic,
            TraceExporter exporter, AgentInvoker agent, Tracer tracer, TraceDelivery delivery) {
        AgentfnConfig.Evaluation e = config.evaluation();
        Judge.Services judges = new Judge.Services(anthropic, json, new Limiter(e.judgeConcurrency()),
                e.judgeMaxTokens(), e.judgeTimeout(), e.traceJudges() ? tracer : null, delivery);
        Scorers scorers = new Scorers(e.judgeModel().orElse(config.anthropic().defaultModel()), judges);
        Datasets datasets = new Datasets(json, e.datasetRoot(), e.maxRows(), fetcher(e.datasetUrls()));
        // Results live in MLflow: without a tracking server there is nothing to evaluate into.
        if (!(exporter instanceof MlflowTraceExporter mlflow)) {
            return new Evaluations(datasets, scorers, agent, null, null, e.retained());
        }
        // A row started just before the budget ends may still take its deadline and a judge call with one retry.
        java.time.Duration grace = config.invocation().deadline().plus(e.judgeTimeout().multipliedBy(2));
        EvaluationRunner runner = new EvaluationRunner(mlflow.client(), agent, new Limiter(e.agentConcurrency()), grace);
        return new Evaluations(datasets, scorers, agent, runner, mlflow::experiment, e.retained(), e.timeBudget())
                .withTraces(new TraceSampler(mlflow.client(), java.time.Duration.ofSeconds(60)), e.maxRows())
                .withMlflowDatasets(new MlflowDatasets(mlflow.client(), datasets, e.mlflowDatasetPageSize(), e.maxRows(),
                        java.time.Duration.ofSeconds(60)));
    }

    /** {@code null} (URL datasets refused) unless hosts are allowed; one HTTP client for all downloads. */
    private static DatasetFetcher fetcher(AgentfnConfig.DatasetUrls u) {
        java.util.List<String> hosts = u.allowedHosts().orElse(java.util.List.of());
        if (hosts.stream().allMatch(String::isBlank)) {
            return null;
        }
        return new DatasetFetcher(new java.util.HashSet<>(hosts), u.allowPlainHttp(), u.maxSize().asLongValue(),
                u.timeout(), DatasetFetcher.client());
    }
}
