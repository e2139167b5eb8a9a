package dev.agentfn.invocation.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.Futures;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.mlflow.LoggedModels;
import dev.agentfn.mlflow.MlflowAccess;
import dev.agentfn.mlflow.PromptRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Builds the deployment's agent version and system prompts from configuration, and checks them at start. */
@Singleton
public class AgentBeans {
    private static final Logger LOG = Logger.getLogger(AgentBeans.class);

    @Produces
    @Singleton
    AgentVersion agentVersion(AgentfnConfig config, MlflowAccess mlflow, ToolCatalog tools, ObjectMapper json,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        if (!mlflow.configured()) {
            return AgentVersion.NONE;
        }
        AgentfnConfig.Agent a = config.agent();
        String label = a.label().filter(l -> !l.isBlank()).orElse(null);
        String toolDefinitions;
        try {
            toolDefinitions = json.writeValueAsString(tools.select(Optional.empty()).definitions());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> identity = AgentVersion.identity(version, label, config.anthropic().defaultModel(),
                a.systemPrompt().orElse(null), tools.names(), toolDefinitions, engineSettings(config));
        return new AgentVersion(new LoggedModels(mlflow.tracking()), mlflow.experiment(), a.name(), identity,
                a.versionRetryInterval(), System::nanoTime);
    }

    @Produces
    @Singleton
    SystemPrompts systemPrompts(AgentfnConfig config, MlflowAccess mlflow, ObjectMapper json) {
        AgentfnConfig.Agent a = config.agent();
        PromptRegistry registry = mlflow.configured() ? new PromptRegistry(mlflow.tracking()) : null;
        String system = a.systemPrompt().filter(s -> !s.isBlank()).orElse(null);
        if (system != null && PromptRef.looksLikeReference(system) && PromptRef.parse(system).isEmpty()) {
            throw new IllegalStateException("agentfn.agent.system-prompt \"" + system.strip() + "\" is not a prompt "
                    + "reference; " + PromptRef.form());
        }
        if (system != null && PromptRef.parse(system).isPresent() && registry == null) {
            throw new IllegalStateException("agentfn.agent.system-prompt names a registered prompt (" + system.strip()
                    + ") but no MLflow tracking server is configured (MLFLOW_TRACKING_URI)");
        }
        return new SystemPrompts(system, new Prompts(registry, a.promptCacheTtl(), System::nanoTime), json);
    }

    /** What the engines do differently between deployments (not limits, pools or timeouts). */
    static Map<String, String> engineSettings(AgentfnConfig config) {
        Map<String, String> s = new TreeMap<>();
        s.put("messages.default_max_tokens", Integer.toString(config.invocation().defaultMaxTokens()));
        s.put("messages.default_max_turns", Integer.toString(config.invocation().defaultMaxTurns()));
        s.put("messages.betas", String.join(",", config.anthropic().betas().orElse(java.util.List.of())));
        AgentfnConfig.ClaudeCode cc = config.claudeCode();
        s.put("claude_code.allowed_tools", String.join(",", cc.allowedTools()));
        s.put("claude_code.bash_enabled", Boolean.toString(cc.bashEnabled()));
        s.put("claude_code.permission_mode", cc.permissionMode());
        cc.maxBudgetUsd().ifPresent(b -> s.put("claude_code.max_budget_usd", b.toPlainString()));
        return s;
    }

    /**
     * At start: look the agent version up (in the background; never a failed start), and load the deployment's
     * registered system prompt once. A prompt MLflow says does not exist stops the start; MLflow unreachable
     * does not (requests then get 503 until the prompt can be loaded).
     */
    static void onStart(@Observes StartupEvent event, AgentVersion version, SystemPrompts prompts) {
        version.resolve();
        PromptRef ref = prompts.deploymentReference();
        if (ref == null) {
            return;
        }
        try {
            prompts.prompts().load(ref).join();
            LOG.infof("System prompt %s loaded from MLflow's Prompt Registry", ref.uri());
        } catch (RuntimeException e) {
            Throwable cause = Futures.unwrap(e);
            if (cause instanceof PromptException p && p.kind() == PromptException.Kind.INVALID) {
                throw new IllegalStateException("agentfn.agent.system-prompt: " + p.getMessage(), p);
            }
            LOG.warnf("agentfn.agent.system-prompt %s could not be loaded at start: %s", ref.uri(), cause.getMessage());
        }
    }
}
