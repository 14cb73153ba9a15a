package client_test

import (
	"testing"

	"github.com/outposthq/outpost/client"
)

// The nine Connection.Sync states follow the documented precedence:
// refresh > error > pending upload > warning > plain; offline has no
// refresh.
func TestStateOfPrecedence(t *testing.T) {
	all := client.Conditions{Refreshing: true, Failed: true, Pending: true, Warning: true}
	for _, tc := range []struct {
		c    client.Conditions
		want client.SyncState
	}{
		{client.Conditions{Online: true}, client.Connected},
		{client.Conditions{Online: true, Warning: true}, client.ConnectedWithWarning},
		{client.Conditions{Online: true, Pending: true, Warning: true}, client.ConnectedPendingUpsync},
		{client.Conditions{Online: true, Failed: true, Pending: true, Warning: true}, client.ConnectedError},
		{client.Conditions{Online: true, Refreshing: true, Failed: true, Pending: true, Warning: true}, client.ConnectedRefresh},
		{client.Conditions{}, client.NotConnected},
		{client.Conditions{Warning: true}, client.NotConnectedWithWarning},
		{client.Conditions{Pending: true, Warning: true}, client.NotConnectedPendingUpsync},
		{all, client.NotConnectedSyncError},
		{client.Conditions{Refreshing: true}, client.NotConnected},
	} {
		if got := client.StateOf(tc.c); got != tc.want {
			t.Errorf("StateOf(%+v) = %s, want %s", tc.c, got, tc.want)
		}
	}
}
