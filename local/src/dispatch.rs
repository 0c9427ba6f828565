//! Which handler serves which operation: the local stand-in for one Lambda per route.

use crate::server::Services;
use edge::routes::Operation;
use edge::{Request, Response};

/// What a routed request invokes.
pub enum Target {
    /// A REST operation, with its resource template.
    Operation(Operation, &'static str),
    /// An empty function: the bench's baseline, through the same gateway and authorizer.
    Noop,
}

/// Invokes the handler of `target`, exactly as its Lambda would be invoked: the mutating
/// ones at most once per `Idempotency-Key` (reads pass through that check untouched), save
/// createInvite, whose answer holds a token that nothing may keep.
pub async fn invoke(services: &Services, target: Target, request: Request) -> Response {
    let operation = match target {
        Target::Operation(operation, _) => operation,
        Target::Noop => return edge::respond::json(http::StatusCode::OK, &serde_json::json!({})),
    };
    if operation == Operation::CreateInvite {
        return handle(services, operation, request).await;
    }
    edge::idempotency::once(services.idempotency.as_ref(), request, |request| {
        handle(services, operation, request)
    })
    .await
}

async fn handle(services: &Services, operation: Operation, request: Request) -> Response {
    let (carts, items) = (&services.carts, &services.items);
    match operation {
        Operation::CreateCart => create_cart::handle(carts, request).await,
        Operation::GetCart => get_cart::handle(carts, request).await,
        Operation::GetUserDetails => {
            get_user_details::handle(carts, services.directory.as_ref(), request).await
        }
        Operation::ListMyCarts => list_my_carts::handle(carts, request).await,
        Operation::ListNotifications => {
            list_notifications::handle(services.notifications.as_ref(), request).await
        }
        Operation::SetNotificationSettings => {
            set_notification_settings::handle(services.notifications.as_ref(), request).await
        }
        Operation::AddItemToCart => add_item_to_cart::handle(carts, request).await,
        Operation::RemoveItemFromCart => remove_item_from_cart::handle(carts, request).await,
        Operation::ModifyCart => modify_cart::handle(carts, request).await,
        Operation::ShareCart => {
            share_cart::handle(carts, services.directory.as_ref(), request).await
        }
        Operation::UnshareCart => unshare_cart::handle(carts, request).await,
        Operation::CreateInvite => {
            // The local stack serves the page itself, where the request came.
            let page = create_invite::request_origin(&request);
            create_invite::handle(carts, Some(&page), request).await
        }
        Operation::ListInvites => list_invites::handle(carts, request).await,
        Operation::RevokeInvite => revoke_invite::handle(carts, request).await,
        Operation::GetInvite => get_invite::handle(carts, request).await,
        Operation::AcceptInvite => accept_invite::handle(carts, request).await,
        Operation::LockCart => lock_cart::handle(carts, request).await,
        Operation::UnlockCart => unlock_cart::handle(carts, request).await,
        Operation::UpdateCartSettings => update_cart_settings::handle(carts, request).await,
        Operation::CheckoutCart => checkout_cart::handle(carts, request).await,
        Operation::ListItems => list_items::handle(items, request).await,
        Operation::GetItemDetails => get_item_details::handle(items, request).await,
        Operation::UpdateItemStock => update_item_stock::handle(items, request).await,
        Operation::GetAnalytics => {
            get_analytics::handle(services.analytics.as_ref(), request).await
        }
    }
}
