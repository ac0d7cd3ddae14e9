// `sbc build` as a library: read the project config's `build` section, build or check its outputs, write
// depfiles, watch the inputs. The CLI's `build` command is a shell around these.

export { loadBuildConfig, readBuildSection, type BuildConfig, type BuildConfigResult, type BuildOutput, type BuildPolicy } from "./config.js";
export { runBuild, type BuildOptions, type BuildResult, type FileAction, type FileEntry, type PolicyBuild } from "./build.js";
export { depfileText, depPath, escapeDepPath } from "./depfile.js";
export { watchInputs, type InputWatcher } from "./watch.js";
