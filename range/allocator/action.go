package allocator

import "fmt"

// ActionType says what to do.
type ActionType uint8

// Action types. A replica is added in two steps, AddLearner then
// PromoteLearner, and a move is AddLearner, PromoteLearner, RemoveVoter.
const (
	Noop ActionType = iota
	// AddLearner adds a learner on Target; the driver sends it a snapshot.
	AddLearner
	// PromoteLearner makes the learner on Target a voter.
	PromoteLearner
	// RemoveLearner removes the learner on Target.
	RemoveLearner
	// RemoveVoter removes the voter on Target.
	RemoveVoter
	// TransferLease moves the lease (Raft leadership) to Target.
	TransferLease
)

var actionTypeNames = [...]string{"noop", "add-learner", "promote-learner", "remove-learner", "remove-voter", "transfer-lease"}

func (t ActionType) String() string {
	if int(t) < len(actionTypeNames) {
		return actionTypeNames[t]
	}
	return fmt.Sprintf("action(%d)", t)
}

// Reason says why, for callers that branch or count (metrics, tests);
// Action.Detail says it to a human.
type Reason uint8

// Reasons, in the order of the rules in doc.go.
const (
	ReasonBalanced Reason = iota
	ReasonInvalid
	ReasonUnavailable
	ReasonBlocked
	ReasonStaleLearner
	ReasonFinishAdd
	ReasonUnderReplicated
	ReasonReplaceDead
	ReasonReplaceDecommissioning
	ReasonRemoveDead
	ReasonRemoveDecommissioning
	ReasonOverReplicated
	ReasonLeaseBeforeRemove
	ReasonDrainLease
	ReasonRebalanceReplicas
	ReasonBalanceLeases
)

var reasonNames = [...]string{
	"balanced", "invalid-descriptor", "unavailable", "blocked", "stale-learner",
	"finish-add", "under-replicated", "replace-dead", "replace-decommissioning",
	"remove-dead", "remove-decommissioning", "over-replicated",
	"lease-before-remove", "drain-lease", "rebalance-replicas", "balance-leases",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// Action is one decision.
type Action struct {
	Type ActionType
	// Target is the node the action is about: the node to add a learner on,
	// whose replica to promote or remove, or the new leaseholder. 0 for Noop.
	Target NodeID
	// ReplicaID is the target's replica id for PromoteLearner, RemoveLearner,
	// RemoveVoter and TransferLease (the Raft id to transfer leadership to);
	// 0 for AddLearner (the driver takes the descriptor's NextReplicaId).
	ReplicaID uint64
	// Source is the node a replica is being replaced or moved away from, for
	// an AddLearner that starts a replacement or rebalance, and the current
	// leaseholder for TransferLease; else 0.
	Source NodeID
	Reason Reason
	Detail string
}

func (a Action) String() string {
	if a.Type == Noop {
		return fmt.Sprintf("noop (%s: %s)", a.Reason, a.Detail)
	}
	return fmt.Sprintf("%s n%d (%s: %s)", a.Type, a.Target, a.Reason, a.Detail)
}

// ApplyTo adjusts the counts in nodes for a, so that a driver deciding for
// many ranges from one snapshot sees its own earlier decisions. Without it,
// every range would move a replica to the same emptiest node at once (a
// herd, which then flaps). An AddLearner that starts a replacement or a move
// (Source set) counts the whole change: one replica more on Target, one less
// on Source. Refresh the snapshot from real counts at least once per pass
// over the ranges: the RemoveVoter that finishes such a move takes the
// replica off Source again if applied to the same snapshot.
func (a Action) ApplyTo(nodes []Node) {
	for i := range nodes {
		n := &nodes[i]
		switch a.Type {
		case AddLearner:
			if n.ID == a.Target {
				n.Replicas++
			} else if n.ID == a.Source && a.Source != 0 {
				n.Replicas--
			}
		case RemoveLearner, RemoveVoter:
			if n.ID == a.Target {
				n.Replicas--
			}
		case TransferLease:
			if n.ID == a.Target {
				n.Leases++
			} else if n.ID == a.Source && a.Source != 0 {
				n.Leases--
			}
		}
	}
}
