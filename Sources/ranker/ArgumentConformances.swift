import ArgumentParser
import Ranker

// Library enums as command-line values (their raw values are the spellings).
extension DataConfiguration.Source: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {}
extension StabilityPolicy: ExpressibleByArgument {}
extension OutputSettings.Progress: ExpressibleByArgument {}
extension DatasetPart: ExpressibleByArgument {}
extension RunDirectory.Weights: ExpressibleByArgument {}

// Any registered optimizer name; help lists the registry's names.
extension OptimizerKind: ExpressibleByArgument {
    public static var allValueStrings: [String] { OptimizerRegistry.names }
}
