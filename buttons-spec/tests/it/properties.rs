use std::path::{Component, Path};

use buttons_spec::{ArgDef, ArgType, Args, ButtonName, slugify, split_press_arg};
use proptest::prelude::*;

fn is_valid_slug(s: &str) -> bool {
    !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn arg_def() -> impl Strategy<Value = ArgDef> {
    let name = "[A-Za-z][A-Za-z0-9_-]{0,15}";
    let ty = prop_oneof![
        Just(ArgType::String),
        Just(ArgType::Int),
        Just(ArgType::Bool),
        Just(ArgType::Enum)
    ];
    let values = prop::collection::btree_set("[^:|]{1,8}", 2..5);
    (name, ty, any::<bool>(), values).prop_map(|(name, arg_type, required, values)| ArgDef {
        name,
        arg_type,
        required,
        values: if arg_type == ArgType::Enum {
            values.into_iter().collect()
        } else {
            Vec::new()
        },
        description: None,
    })
}

proptest! {
    #[test]
    fn slugify_is_idempotent_and_valid(input in any::<String>()) {
        let once = slugify(&input);
        prop_assert_eq!(slugify(&once), once.as_str());
        prop_assert!(once.is_empty() || is_valid_slug(&once), "{:?}", once);
    }

    #[test]
    fn accepted_names_stay_inside_the_buttons_folder(input in any::<String>()) {
        if let Ok(name) = ButtonName::from_user(&input) {
            let path = Path::new("/data/buttons").join(name.as_str());
            let parts: Vec<Component<'_>> = path.components().collect();
            prop_assert_eq!(parts.len(), 4, "{:?}", path);
            prop_assert!(matches!(parts[3], Component::Normal(_)));
            prop_assert!(path.starts_with("/data/buttons"));
            prop_assert!(name.as_str().len() <= 128);
            prop_assert!(ButtonName::new(name.as_str()).is_ok());
        }
    }

    #[test]
    fn accepted_arg_definitions_round_trip(def in arg_def()) {
        let text = def.to_string();
        let parsed = ArgDef::parse(&text);
        prop_assert!(parsed.is_ok(), "{:?} refused: {:?}", text, parsed);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &def);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn any_parsed_definition_round_trips(text in "[a-z]{1,4}(:[a-z|]{0,12}){2,3}") {
        if let Ok(def) = ArgDef::parse(&text) {
            prop_assert_eq!(ArgDef::parse(&def.to_string()).unwrap(), def);
        }
    }

    #[test]
    fn press_args_split_on_the_first_equals(key in "[a-z][a-z0-9_-]{0,8}", value in any::<String>()) {
        let given = format!("{key}={value}");
        let (k, v) = split_press_arg(&given).unwrap();
        prop_assert_eq!(k, key.as_str());
        prop_assert_eq!(v, value.as_str());
    }

    #[test]
    fn string_values_pass_through_unchanged(value in any::<String>()) {
        let defs = [ArgDef::parse("v:string:required").unwrap()];
        let args = Args::validate(&defs, [("v", value.as_str())]).unwrap();
        let env: Vec<(String, &str)> = args.env_vars().collect();
        prop_assert_eq!(env, vec![("BUTTONS_ARG_V".to_owned(), value.as_str())]);
    }
}
