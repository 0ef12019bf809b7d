/// A value written on purpose into one step's input, loss or gradient, to
/// prove that the trainer catches it (issue 14, fault injection): set with
/// `Trainer.inject(_:)` by a test or by the fault-injection program of
/// `faults/injector` (`make faults`); nothing in `ranker` or a run
/// configuration reaches it.
///
/// At the start of step `step` (counted from 0, as `state.step` and the
/// telemetry's `step` field) the trainer hands the fault to its
/// `TrainingStep`, which writes `value` at one site of that step only:
///
/// * `.input`: the dense feature 0 of example 0 of the batch, before the
///   forward pass (as a corrupt row that passed the reader would arrive);
/// * `.loss(task:)`: task `task`'s mean loss `L_k`, after the forward pass
///   and before the balancer and the backward pass read it;
/// * `.gradient(parameter:)`: the middle element of the named parameter's
///   final gradient `∂L/∂θ`, after the backward pass and the balancer's
///   combination, before the update (as a faulty kernel would leave it).
///
/// The fault is used once: a rolled-back step is not injected again.
public struct InjectedFault: Equatable, Sendable {
    public enum Site: Equatable, Sendable {
        case input
        case loss(task: Int)
        case gradient(parameter: String)
    }

    public var site: Site
    public var step: Int
    public var value: Float

    public init(site: Site, step: Int, value: Float) {
        self.site = site
        self.step = step
        self.value = value
    }

    /// Reads `SITE@STEP=VALUE`: `input@12=nan`, `loss:0@12=inf`,
    /// `gradient:tower.0.layer0.W@12=-inf` (VALUE: `nan`, `inf`, `-inf` or a number).
    public init(parsing text: String) throws {
        func fail(_ why: String) -> TrainingError {
            TrainingError(message: "fault \"\(text)\": \(why); expected SITE@STEP=VALUE with SITE input, "
                          + "loss:TASK or gradient:PARAMETER, e.g. loss:0@12=nan")
        }
        guard let at = text.lastIndex(of: "@"), let equals = text.lastIndex(of: "="), at < equals else {
            throw fail("no @STEP=VALUE")
        }
        let siteText = text[..<at]
        guard let step = Int(text[text.index(after: at)..<equals]), step >= 0 else {
            throw fail("the step is not an integer from 0")
        }
        let valueText = text[text.index(after: equals)...].lowercased()
        guard let value = Float(valueText) else { throw fail("the value \"\(valueText)\" is not a number") }
        let site: Site
        if siteText == "input" {
            site = .input
        } else if siteText.hasPrefix("loss:") {
            guard let task = Int(siteText.dropFirst(5)), task >= 0 else { throw fail("the task is not an index from 0") }
            site = .loss(task: task)
        } else if siteText.hasPrefix("gradient:"), siteText.count > 9 {
            site = .gradient(parameter: String(siteText.dropFirst(9)))
        } else {
            throw fail("unknown site \"\(siteText)\"")
        }
        self.init(site: site, step: step, value: value)
    }
}

extension Trainer {
    /// Writes `fault` into step `fault.step` (`InjectedFault`) — for the
    /// fault-injection tests and `faults/injector`, never a run configuration.
    ///
    /// - Throws: `TrainingError` when the site does not exist in this model
    ///   (no such task or parameter; no dense feature for `.input`).
    public func inject(_ fault: InjectedFault) throws {
        switch fault.site {
        case .input:
            if dataset.denseNames.isEmpty {
                throw TrainingError(message: "fault at the input: the data has no dense feature to write into")
            }
        case let .loss(task):
            if task >= model.taskCount {
                throw TrainingError(message: "fault at loss \(task): the model has \(model.taskCount) tasks (0 to \(model.taskCount - 1))")
            }
        case let .gradient(parameter):
            if !step.parameters.contains(where: { $0.name == parameter }) {
                throw TrainingError(message: "fault at gradient \"\(parameter)\": no such parameter; the parameters are: "
                                    + step.parameters.map(\.name).joined(separator: ", "))
            }
        }
        injectedFaults.append(fault)
    }
}
