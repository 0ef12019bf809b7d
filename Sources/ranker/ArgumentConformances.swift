import ArgumentParser
import Ranker

// Library enums as command-line values (their raw values are the spellings).
extension DataConfiguration.Source: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ClippyPreset: ExpressibleByArgument {}
extension StabilityPolicy: ExpressibleByArgument {}
extension OutputSettings.Progress: ExpressibleByArgument {}
extension DatasetPart: ExpressibleByArgument {}
extension RunDirectory.Weights: ExpressibleByArgument {}
