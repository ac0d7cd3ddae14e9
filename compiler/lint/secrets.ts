// Where credentials live on a developer machine or a CI runner, spelled through the parameters a policy uses
// (`${home}`, `${workspace}`), so that rules can ask the evaluator about them with the policy-test stand-ins.
// One list for every rule that cares (network-with-secrets, secret-access), so they agree on what a secret is.

export interface SecretPath {
  /** The file or directory, as a policy spells it. */
  readonly path: string;
  /** What it holds, for messages ("ssh keys"). */
  readonly what: string;
  /**
   * A file to ask the evaluator about (default: `path` itself). Directories name a typical file inside, so a
   * rule on the directory's subtree, or a glob beneath it, decides the question as it would for the keys.
   */
  readonly probe?: string;
}

export const SECRET_PATHS: readonly SecretPath[] = [
  { path: "${home}/.ssh", what: "ssh keys", probe: "${home}/.ssh/id_ed25519" },
  { path: "${home}/.aws", what: "AWS credentials", probe: "${home}/.aws/credentials" },
  { path: "${home}/.config/gcloud", what: "Google Cloud credentials", probe: "${home}/.config/gcloud/credentials.db" },
  { path: "${home}/.netrc", what: "passwords for hosts (netrc)" },
  { path: "${home}/.docker/config.json", what: "container registry credentials" },
  { path: "${home}/.git-credentials", what: "git credentials" },
  { path: "${home}/.kube/config", what: "Kubernetes credentials" },
  { path: "${workspace}/.env", what: "the project's environment secrets" },
];
