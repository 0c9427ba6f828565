//! The REST API's routes: one table that the local gateway routes by, and that the tests hold
//! the OpenAPI spec and the `functions/` directory to.

/// Every REST operation; each is its own Lambda function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /carts`
    CreateCart,
    /// `GET /carts/{cartId}`
    GetCart,
    /// `GET /me`
    GetUserDetails,
    /// `GET /me/carts`
    ListMyCarts,
    /// `GET /me/notifications`
    ListNotifications,
    /// `PUT /me/notification-settings`
    SetNotificationSettings,
    /// `POST /carts/{cartId}/items`
    AddItemToCart,
    /// `DELETE /carts/{cartId}/items/{itemId}`
    RemoveItemFromCart,
    /// `PATCH /carts/{cartId}`
    ModifyCart,
    /// `POST /carts/{cartId}/members`
    ShareCart,
    /// `DELETE /carts/{cartId}/members/{userId}`
    UnshareCart,
    /// `POST /carts/{cartId}/invites`
    CreateInvite,
    /// `GET /carts/{cartId}/invites`
    ListInvites,
    /// `DELETE /carts/{cartId}/invites/{inviteId}`
    RevokeInvite,
    /// `GET /invites/{token}`
    GetInvite,
    /// `POST /invites/{token}/accept`
    AcceptInvite,
    /// `POST /carts/{cartId}/lock`
    LockCart,
    /// `DELETE /carts/{cartId}/lock`
    UnlockCart,
    /// `PUT /carts/{cartId}/settings`
    UpdateCartSettings,
    /// `POST /carts/{cartId}/checkout`
    CheckoutCart,
    /// `GET /items`
    ListItems,
    /// `GET /items/{itemId}`
    GetItemDetails,
    /// `PUT /items/{itemId}/stock`
    UpdateItemStock,
    /// `GET /analytics/days/{day}`
    GetAnalytics,
}

/// One route: a method and a resource template in API Gateway's syntax.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The operation it invokes.
    pub operation: Operation,
    /// The HTTP method.
    pub method: &'static str,
    /// The resource template, as API Gateway names it (`/carts/{cartId}`).
    pub resource: &'static str,
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// The package under `functions/` that serves it.
    pub function: &'static str,
}

macro_rules! routes {
    ($($op:ident $method:literal $resource:literal $id:literal $function:literal;)*) => {
        /// Every REST route.
        pub const ROUTES: &[Route] = &[
            $(Route { operation: Operation::$op, method: $method, resource: $resource, operation_id: $id, function: $function },)*
        ];
    };
}

routes! {
    CreateCart         "POST"   "/carts"                           "createCart"         "create-cart";
    GetCart            "GET"    "/carts/{cartId}"                  "getCart"            "get-cart";
    ModifyCart         "PATCH"  "/carts/{cartId}"                  "modifyCart"         "modify-cart";
    AddItemToCart      "POST"   "/carts/{cartId}/items"            "addItemToCart"      "add-item-to-cart";
    RemoveItemFromCart "DELETE" "/carts/{cartId}/items/{itemId}"   "removeItemFromCart" "remove-item-from-cart";
    ShareCart          "POST"   "/carts/{cartId}/members"          "shareCart"          "share-cart";
    UnshareCart        "DELETE" "/carts/{cartId}/members/{userId}" "unshareCart"        "unshare-cart";
    CreateInvite       "POST"   "/carts/{cartId}/invites"            "createInvite"     "create-invite";
    ListInvites        "GET"    "/carts/{cartId}/invites"            "listInvites"      "list-invites";
    RevokeInvite       "DELETE" "/carts/{cartId}/invites/{inviteId}" "revokeInvite"     "revoke-invite";
    GetInvite          "GET"    "/invites/{token}"                   "getInvite"        "get-invite";
    AcceptInvite       "POST"   "/invites/{token}/accept"            "acceptInvite"     "accept-invite";
    LockCart           "POST"   "/carts/{cartId}/lock"             "lockCart"           "lock-cart";
    UnlockCart         "DELETE" "/carts/{cartId}/lock"             "unlockCart"         "unlock-cart";
    UpdateCartSettings "PUT"    "/carts/{cartId}/settings"         "updateCartSettings" "update-cart-settings";
    CheckoutCart       "POST"   "/carts/{cartId}/checkout"         "checkoutCart"       "checkout-cart";
    GetUserDetails     "GET"    "/me"                              "getUserDetails"     "get-user-details";
    ListMyCarts        "GET"    "/me/carts"                        "listMyCarts"        "list-my-carts";
    ListNotifications  "GET"    "/me/notifications"                "listNotifications"  "list-notifications";
    SetNotificationSettings "PUT" "/me/notification-settings"      "setNotificationSettings" "set-notification-settings";
    ListItems          "GET"    "/items"                           "listItems"          "list-items";
    GetItemDetails     "GET"    "/items/{itemId}"                  "getItemDetails"     "get-item-details";
    UpdateItemStock    "PUT"    "/items/{itemId}/stock"            "updateItemStock"    "update-item-stock";
    GetAnalytics       "GET"    "/analytics/days/{day}"            "getAnalytics"       "get-analytics";
}

/// How a request failed to match.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// No resource has this path.
    NotFound,
    /// The resource exists; these methods are what it accepts.
    MethodNotAllowed(Vec<&'static str>),
}

/// Path parameters by name, as they appear in the path (still percent-encoded).
pub type PathParams<'p> = Vec<(&'static str, &'p str)>;

/// The route for `method` and `path`, with its path parameters.
pub fn match_route<'p>(
    method: &str,
    path: &'p str,
) -> Result<(&'static Route, PathParams<'p>), Miss> {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_resource(route.resource, path) {
            if route.method == method {
                return Ok((route, params));
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        Err(Miss::NotFound)
    } else {
        Err(Miss::MethodNotAllowed(allowed))
    }
}

fn match_resource<'p>(resource: &'static str, path: &'p str) -> Option<PathParams<'p>> {
    let mut params = Vec::new();
    let mut segments = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path)
        .split('/');
    for template in resource.split('/') {
        let segment = segments.next()?;
        match template.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => params.push((name, segment)),
            Some(_) => return None,
            None if template == segment => {}
            None => return None,
        }
    }
    segments.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_templates_and_capture_parameters() {
        let (route, params) = match_route("DELETE", "/carts/abc/items/apple").unwrap();
        assert_eq!(route.operation, Operation::RemoveItemFromCart);
        assert_eq!(params, [("cartId", "abc"), ("itemId", "apple")]);
        assert_eq!(
            match_route("GET", "/me/carts").unwrap().0.operation,
            Operation::ListMyCarts
        );
        assert_eq!(
            match_route("GET", "/me/carts/").unwrap().0.operation,
            Operation::ListMyCarts
        );
    }

    #[test]
    fn a_known_path_with_another_method_is_method_not_allowed() {
        assert_eq!(
            match_route("PUT", "/carts/abc").unwrap_err(),
            Miss::MethodNotAllowed(vec!["GET", "PATCH"])
        );
    }

    #[test]
    fn unknown_and_empty_segments_do_not_match() {
        assert_eq!(match_route("GET", "/nope").unwrap_err(), Miss::NotFound);
        assert_eq!(
            match_route("GET", "/carts//items").unwrap_err(),
            Miss::NotFound
        );
        assert_eq!(
            match_route("GET", "/carts/a/b/c/d").unwrap_err(),
            Miss::NotFound
        );
    }

    #[test]
    fn every_operation_has_exactly_one_route() {
        let mut seen = std::collections::HashSet::new();
        for route in ROUTES {
            assert!(seen.insert(route.operation), "{:?} twice", route.operation);
        }
        assert_eq!(seen.len(), 24);
    }
}
