package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.conversation.messages.RetryPolicy;
import dev.agentfn.mlflow.MlflowAccess;
import io.vertx.core.Vertx;
import dev.agentfn.invocation.Recorder;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires evaluations from the shared Anthropic client, the deployment's MLflow client and the agent. */
@Singleton
public class EvaluationBeans {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(EvaluationBeans.class);

    @Produces
    @Singleton
    Evaluations evaluations(AgentfnConfig config, ObjectMapper json, AnthropicClient anthropic,
            MlflowAccess mlflow, AgentInvoker inProcess, Recorder recorder, Vertx vertx,
            dev.agentfn.invocation.agent.AgentVersion agentVersion, dev.agentfn.invocation.agent.SystemPrompts prompts) {
        AgentfnConfig.Evaluation e = config.evaluation();
        RetryPolicy retries = new RetryPolicy(config.anthropic().maxRetries(), config.anthropic().maxRetryAfter(),
                () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());
        OpenAiChatClient openai = new OpenAiChatClient(vertx, config.anthropic().connectTimeout(), json,
                e.openai().baseUrl(), e.openai().apiKey(), retries, Sleeper.SYSTEM);
        Judge.Services judges = new Judge.Services(anthropic, json, new Limiter(e.judgeConcurrency()),
                e.judgeMaxTokens(), e.judgeTimeout(), e.traceJudges() ? recorder : null, openai,
                JudgePricing.of(config.prices()));
        AgentInvoker agent = e.functionUrl().isEmpty() ? inProcess : remote(config, json, inProcess, recorder, vertx);
        Scorers scorers = new Scorers(e.judgeModel().orElse(config.anthropic().defaultModel()), judges,
                mlflow.configured() ? prompts.prompts() : null);
        Datasets datasets = new Datasets(json, e.datasetRoot(), e.maxRows(), fetcher(e.datasetUrls()));
        // Results live in MLflow, linked to the rows' traces: without a tracking server, or with tracing off,
        // there is nothing to evaluate into.
        if (!mlflow.configured() || !recorder.enabled()) {
            return new Evaluations(datasets, scorers, agent, null, null, e.retained());
        }
        // A row started just before the budget ends may still take its deadline and a judge call with one retry.
        java.time.Duration grace = config.invocation().deadline().plus(e.judgeTimeout().multipliedBy(2));
        // Rows run here are this deployment's version; rows sent to a function URL run as that deployment's.
        java.util.function.Supplier<java.util.Optional<String>> version = e.functionUrl().isEmpty()
                ? agentVersion::modelId : java.util.Optional::empty;
        EvaluationRunner runner = new EvaluationRunner(mlflow.tracking(), agent, new Limiter(e.agentConcurrency()), grace,
                RunSource.defaultUser(config.mlflow().trackingUsername()), version);
        return new Evaluations(datasets, scorers, agent, runner, mlflow.experiment()::id, e.retained(), e.timeBudget())
                .withTraces(new TraceSampler(mlflow.tracking(), java.time.Duration.ofSeconds(60)), e.maxRows())
                .withMlflowDatasets(new MlflowDatasets(mlflow.tracking(), datasets, e.mlflowDatasetPageSize(), e.maxRows(),
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

    private static AgentInvoker remote(AgentfnConfig config, ObjectMapper json, AgentInvoker inProcess,
            Recorder recorder, Vertx vertx) {
        AgentfnConfig.Evaluation e = config.evaluation();
        java.util.Optional<String> key = functionKey(config);
        if (key.isEmpty()) {
            // The function refuses X-Agentfn-Source-Run without authentication: every row would fail with a 400.
            LOG.warn("agentfn.evaluation.function-url is set but no key for it (agentfn.evaluation.function-api-key "
                    + "or agentfn.auth.api-keys): the function will refuse the rows");
        }
        LOG.infof("evaluation rows fan out to %s", e.functionUrl().get());
        return new RemoteAgentInvoker(vertx, json, inProcess, e.functionUrl().get(), key,
                e.functionTimeout().orElse(config.invocation().deadline().plusSeconds(30)), recorder);
    }

    private static java.util.Optional<String> functionKey(AgentfnConfig config) {
        return config.evaluation().functionApiKey()
                .or(() -> config.auth().apiKeys().flatMap(keys -> keys.stream().filter(k -> !k.isBlank()).findFirst()));
    }
}
