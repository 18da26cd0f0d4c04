// seqgpu's public API (the README's API section): Runtime, Graph, and the error classes.
export { Runtime, type RuntimeOptions, type RuntimeInfo } from './runtime/runtime';
export { Graph, Tensor, type DType } from './graph/graph';
export type { Executable, ExecStats, Feeds, Feed } from './graph/executable';
export type { CompileOptions } from './graph/executor';
export type { KernelDefinition, PlanArgs, TensorInfo, UserDispatch } from './kernels/user';
export type { KernelRegistry } from './runtime/kernels';
export { SeqgpuError, ShapeError, InputError, LimitError, GpuError, DeviceLostError, DestroyedError, KernelError } from './errors';
export { MATMUL_VARIANTS } from './kernels/matmul';
export * from './nn/safetensors';
export {
  Module, ModuleList, loadStateDict, StateDictError, setInitSeed,
  type Parameter, type StateDictInput, type ShapeMismatch,
} from './nn/module';
export * from './nn/layers';
export * from './nn/attention';
export * from './nn/transformer';
export * from './nn/gpt2';
export { TextClassifier, ClassifierSession, type TextClassifierConfig } from './models/classifier';
export { GptDecoder, prefillGraph, stepGraph, fullGraph, type GptDecoderOptions, type GenerateOptions, type GenerateResult } from './models/gpt';
export { Seq2SeqTransformer, Translator, type TranslatorConfig, type TranslateResult } from './models/translator';
export { SeededRandom, argmax, pickToken, type SamplingOptions } from './models/sampling';
