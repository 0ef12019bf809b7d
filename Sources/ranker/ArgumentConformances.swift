import ArgumentParser
import Ranker

// Library enums as command-line values (their raw values are the spellings).
extension DataConfiguration.Source: @retroactive ExpressibleByArgument {}
extension ModelKind: @retroactive ExpressibleByArgument {}
extension OptimizerKind: @retroactive ExpressibleByArgument {}
extension ClippyPreset: @retroactive ExpressibleByArgument {}
extension StabilityPolicy: @retroactive ExpressibleByArgument {}
extension OutputSettings.Progress: @retroactive ExpressibleByArgument {}
extension DatasetPart: @retroactive ExpressibleByArgument {}
