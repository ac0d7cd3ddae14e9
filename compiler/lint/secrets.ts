// Where credentials live on a developer machine or a CI runner, spelled through the parameters a policy uses
// (`${home}`, `${workspace}`), so that rules can ask the evaluator about them with the policy-test stand-ins.
// One list for every rule that cares (secret-access, network-with-secrets), so they agree on what a secret
// is; docs/lint.md#secret-access lists it.

export interface Secret {
  /** What the finding names, and the subtree (or glob) the fix denies. */
  readonly path: string;
  readonly kind: "path" | "glob";
  /** What it holds, for messages ("ssh keys"). */
  readonly what: string;
  /**
   * Files whose reading leaks the secret (the first is the one asked about where one probe is enough).
   * Directories name typical files inside, so that a rule on the directory's subtree, or a glob beneath it,
   * decides the question as it would for the keys.
   */
  readonly read: readonly string[];
  /** Files whose change lets the sandbox act as the user; none where changing it is harmless (`.env`). */
  readonly change: readonly string[];
}

const dir = (path: string, what: string, read: readonly string[], change: readonly string[]): Secret => ({
  path,
  kind: "path",
  what,
  read: read.map((f) => `${path}/${f}`),
  change: change.map((f) => `${path}/${f}`),
});
const file = (path: string, what: string): Secret => ({ path, kind: "path", what, read: [path], change: [path] });

export const SECRETS: readonly Secret[] = [
  dir("${home}/.ssh", "ssh keys", ["id_ed25519", "id_rsa"], ["authorized_keys", "config"]),
  dir("${home}/.aws", "AWS credentials", ["credentials"], ["credentials", "config"]),
  dir("${home}/.config/gcloud", "Google Cloud credentials", ["application_default_credentials.json", "credentials.db"], ["configurations/config_default"]),
  dir("${home}/.azure", "Azure credentials", ["msal_token_cache.json"], ["config"]),
  dir("${home}/.gnupg", "GnuPG keys", ["private-keys-v1.d/key.key"], ["gpg-agent.conf"]),
  dir("${home}/.config/gh", "GitHub CLI tokens", ["hosts.yml"], ["config.yml"]),
  file("${home}/.netrc", "passwords for hosts (netrc)"),
  file("${home}/.git-credentials", "git credentials"),
  file("${home}/.docker/config.json", "container registry credentials"),
  file("${home}/.kube/config", "Kubernetes credentials"),
  file("${home}/.npmrc", "npm tokens"),
  file("${home}/.pypirc", "PyPI tokens"),
  file("${home}/.cargo/credentials.toml", "crates.io tokens"),
  { path: "${workspace}/**/.env", kind: "glob", what: "the project's environment secrets", read: ["${workspace}/.env", "${workspace}/app/.env"], change: [] },
];
