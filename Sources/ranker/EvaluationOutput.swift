import Foundation
import Ranker

/// The per-task table of one evaluation, as `ranker train` and `ranker eval`
/// print it: a label line, then one line per output (AUC, GAUC, logloss,
/// examples; RMSE for regression outputs), then the mean AUC.
func printEvaluationTable(_ label: String, _ e: Evaluation) {
    print("\(label):")
    print("  task          AUC      GAUC     logloss   examples")
    for t in e.tasks {
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "   -  " }
        if let rmse = t.rmse {
            print("  \(t.name.padding(toLength: 12, withPad: " ", startingAt: 0))  RMSE \(f(rmse))             \(t.examples)")
        } else {
            print("  \(t.name.padding(toLength: 12, withPad: " ", startingAt: 0))  \(f(t.auc))   \(f(t.gauc))   \(f(t.logloss))   \(t.examples)")
        }
    }
    print(String(format: "  mean AUC %.4f", e.meanAUC))
}

/// A failure of a command that is not about its arguments (those are
/// `ValidationError`s): printed as `Error: <message>`, exit status 1.
struct CommandError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Writes `text` to standard error (progress and notes of commands whose
/// standard output is data).
func printToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
