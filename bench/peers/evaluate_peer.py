"""The Python peer of agentfn's batch evaluation: what MLflow documents for the same job. mlflow.genai.evaluate
over N rows, a predict_fn calling the Messages API with the official anthropic SDK under
mlflow.anthropic.autolog(), two LLM judges from make_judge (MLflow's own Anthropic adapter, pointed at the same
endpoint with base_url) and a code scorer, in one MLflow run. Run by bench/evaluation.py --peer against the same
fake Messages API and MLflow server as agentfn; prints one JSON line with the wall time and the run id.

Environment: MLFLOW_TRACKING_URI, ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY; MLFLOW_GENAI_EVAL_MAX_WORKERS sets the
rows in flight (bench/evaluation.py gives it agentfn's concurrency).
"""
import argparse, json, os, time

import anthropic
import mlflow
from mlflow.genai.judges import make_judge
from mlflow.genai.scorers import scorer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--agent-model", required=True)
    ap.add_argument("--judge-model", required=True)
    ap.add_argument("--experiment", required=True)
    ap.add_argument("--name", default="bench")
    a = ap.parse_args()
    base = os.environ["ANTHROPIC_BASE_URL"].rstrip("/")
    mlflow.set_experiment(a.experiment)
    mlflow.anthropic.autolog()
    client = anthropic.Anthropic(base_url=base, max_retries=2)

    def predict(prompt):
        r = client.messages.create(model=a.agent_model, max_tokens=1024, messages=[{"role": "user", "content": prompt}])
        return r.content[0].text

    # The same judges as agentfn's request in bench/evaluation.py: same instructions, same model, same endpoint.
    judges = [make_judge(name=n, instructions=f"Is {{{{ outputs }}}} {n} for {{{{ inputs }}}}?",
                         model=f"anthropic:/{a.judge_model}", base_url=f"{base}/v1/messages")
              for n in ("relevance", "correctness")]

    @scorer
    def no_error(outputs):
        return outputs is not None

    data = [{"inputs": {"prompt": f"Question {i}"}} for i in range(a.rows)]
    started = time.monotonic()
    with mlflow.start_run(run_name=a.name) as run:
        result = mlflow.genai.evaluate(data=data, predict_fn=predict, scorers=[*judges, no_error])
    wall = time.monotonic() - started
    print(json.dumps({"wall_s": round(wall, 2), "run_id": run.info.run_id,
                      "metrics": {k: v for k, v in result.metrics.items()}}), flush=True)


if __name__ == "__main__":
    main()
